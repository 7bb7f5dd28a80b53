// Streaming /api/generate at a constant arrival rate through the balancer.
//
//   k6 run -e BALANCER_URL=http://127.0.0.1:3000 k6/generate-stream.js
//   k6 run -e BALANCER_URL=http://127.0.0.1:3000 -e RATE=50 -e DURATION=2m -e NUM_PREDICT=100 k6/generate-stream.js
//
// Each iteration POSTs one streaming generate (num_predict caps the answer) and checks the NDJSON stream: status
// 200, every line JSON, no error line, and a final line with done:true. Custom metrics: stream_ttfb (time to the
// first byte of the answer, which the balancer sends with the first token), stream_chunks (lines per answer) and
// stream_incomplete (answers that did not end with done:true).
import http from 'k6/http';
import { check, fail } from 'k6';
import { Counter, Rate, Trend } from 'k6/metrics';
import { BASE, MODEL, ndjson, requireModel, streamComplete } from './lib.js';

const RATE = parseInt(__ENV.RATE || '20', 10);
const DURATION = __ENV.DURATION || '1m';
const NUM_PREDICT = parseInt(__ENV.NUM_PREDICT || '100', 10);
const MAX_VUS = parseInt(__ENV.MAX_VUS || '1000', 10);

const ttfb = new Trend('stream_ttfb', true);
const chunks = new Trend('stream_chunks');
const incomplete = new Rate('stream_incomplete');
const tokens = new Counter('stream_tokens');

export const options = {
  scenarios: {
    generate_stream: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: Math.min(MAX_VUS, RATE * 10),
      maxVUs: MAX_VUS,
      gracefulStop: '2m',
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    stream_incomplete: ['rate<0.01'],
    stream_ttfb: ['p(99)<5000'],
    dropped_iterations: ['count<1'],
  },
};

export function setup() {
  requireModel(http, fail);
}

export default function () {
  const body = JSON.stringify({
    model: MODEL,
    prompt: `Tell me a story, number ${__VU}-${__ITER}.`,
    stream: true,
    options: { num_predict: NUM_PREDICT },
  });
  const res = http.post(`${BASE}/api/generate`, body, {
    headers: { 'Content-Type': 'application/json' },
    timeout: '300s',
    tags: { endpoint: 'generate', stream: 'true' },
  });
  const lines = ndjson(res.body);
  const complete = res.status === 200 && streamComplete(lines);
  check(res, {
    'status is 200': (r) => r.status === 200,
    'NDJSON content type': (r) => (r.headers['Content-Type'] || '').startsWith('application/x-ndjson'),
    'stream ends with done:true and no error': () => complete,
    'balancer names the backend': (r) => (r.headers['X-Balancer-Backend'] || '') !== '',
  });
  incomplete.add(!complete);
  if (res.status === 200) {
    ttfb.add(res.timings.waiting);
    chunks.add(lines.length);
    const last = lines[lines.length - 1];
    if (last && last.eval_count) {
      tokens.add(last.eval_count);
    }
  }
}
