// Time to first token on streams, and clients that give up mid-stream, at the same time through the balancer:
//   ttft     streaming /api/generate at RATE/s; records ttft (res.timings.waiting) and stream_duration
//   cancel   streaming /api/generate with a long answer (CANCEL_NUM_PREDICT) at CANCEL_RATE/s, abandoned by the
//            client after CANCEL_AFTER (k6's request timeout closes the connection mid-stream); then asks the
//            balancer (GET /balancer/requests/{id}) whether the request ended cancelled on a backend
// ADMIN_TOKEN: the balancer's --admin-token, when set (the request status and /balancer/status calls send it).
//
//   k6 run -e BALANCER_URL=http://127.0.0.1:3000 k6/stream-ttft-cancel.js
//   k6 run -e BALANCER_URL=http://127.0.0.1:3000 -e RATE=20 -e CANCEL_RATE=5 -e CANCEL_AFTER=1s k6/stream-ttft-cancel.js
//
// What "time to first token" is here: k6/http hands a response to the script only once it has been read whole,
// and has no API to read a body as it arrives. res.timings.waiting is the time from the request's last byte sent
// to the response's first byte received. The balancer sends nothing before the backend's status line, and Ollama
// sends its status line with the first streamed chunk (after the model load and the prompt's prefill), so on a
// streaming request the first byte is the first token: waiting = queue wait + load + prefill + network.
//
// The cancel scenario proves cancellation releases capacity: every abandoned stream still held a backend slot
// when the client left, and the balancer must close its upstream connection (which is how Ollama stops
// generating) and free the slot. If it did not, the slots would fill with orphaned generations and the ttft
// scenario's thresholds would fail; teardown() also checks that nothing is left outstanding once the load ends.
import http from 'k6/http';
import { check, fail, sleep } from 'k6';
import { Gauge, Rate, Trend } from 'k6/metrics';
import { arrivalScenario, BASE, MODEL, ndjson, requireModel, streamComplete } from './lib.js';

const RATE = parseInt(__ENV.RATE || '10', 10);
const CANCEL_RATE = parseInt(__ENV.CANCEL_RATE || '2', 10);
const CANCEL_AFTER = __ENV.CANCEL_AFTER || '1s';
const DURATION = __ENV.DURATION || '1m';
const NUM_PREDICT = parseInt(__ENV.NUM_PREDICT || '64', 10);
const CANCEL_NUM_PREDICT = parseInt(__ENV.CANCEL_NUM_PREDICT || '4000', 10);
const MAX_VUS = parseInt(__ENV.MAX_VUS || '500', 10);
const ADMIN_TOKEN = __ENV.ADMIN_TOKEN || '';
// Share of the abandoned requests that must have been running (not finished, not still queued) when abandoned.
const CANCEL_MIN = parseFloat(__ENV.CANCEL_MIN || '0.95');

const ttft = new Trend('ttft', true);
const streamDuration = new Trend('stream_duration', true);
const incomplete = new Rate('stream_incomplete');
const abandoned = new Rate('cancel_abandoned_mid_stream');
const leftOutstanding = new Gauge('outstanding_after_load');

function scenario(exec, rate) {
  return arrivalScenario(exec, rate, DURATION, MAX_VUS, '1m');
}

export const options = {
  scenarios: {
    ttft: scenario('ttftStream', RATE),
    cancel: scenario('cancelMidStream', CANCEL_RATE),
  },
  thresholds: {
    // The streams that run to the end: fast first tokens, complete answers, despite the abandoned ones.
    'ttft{scenario:ttft}': ['p(50)<1000', 'p(95)<2500', 'p(99)<5000'],
    'http_req_failed{scenario:ttft}': ['rate<0.01'],
    stream_incomplete: ['rate<0.01'],
    'checks{scenario:ttft}': ['rate>0.99'],
    // The abandoned ones were really abandoned mid-stream (answer started, not finished when the client left)...
    cancel_abandoned_mid_stream: [`rate>${CANCEL_MIN}`],
    // ...and left nothing behind: no request still outstanding on any backend once the load stopped.
    outstanding_after_load: ['value<1'],
    dropped_iterations: ['count<1'],
  },
};

export function setup() {
  requireModel(http, fail);
}

const ADMIN_HEADERS = ADMIN_TOKEN ? { Authorization: `Bearer ${ADMIN_TOKEN}` } : {};

function generate(numPredict, timeout, scenarioName, requestId) {
  const body = JSON.stringify({
    model: MODEL,
    prompt: `Tell me a long story, number ${__VU}-${__ITER}.`,
    stream: true,
    options: { num_predict: numPredict },
  });
  return http.post(`${BASE}/api/generate`, body, {
    headers: { 'Content-Type': 'application/json', 'X-Request-Id': requestId },
    timeout,
    tags: { endpoint: 'generate', stream: 'true', kind: scenarioName },
  });
}

export function ttftStream() {
  const res = generate(NUM_PREDICT, '300s', 'ttft', `k6-ttft-${__VU}-${__ITER}`);
  const lines = ndjson(res.body);
  const complete = res.status === 200 && streamComplete(lines);
  check(res, {
    'status is 200': (r) => r.status === 200,
    'stream ends with done:true and no error': () => complete,
  });
  incomplete.add(!complete);
  if (res.status === 200) {
    ttft.add(res.timings.waiting);
    streamDuration.add(res.timings.duration);
  }
}

export function cancelMidStream() {
  const id = `k6-cancel-${__VU}-${__ITER}`;
  const res = generate(CANCEL_NUM_PREDICT, CANCEL_AFTER, 'cancel', id);
  // 1050 is k6's request timeout: the client closed the connection. A 200 would mean the answer was shorter than
  // CANCEL_AFTER (raise CANCEL_NUM_PREDICT).
  let midStream = false;
  if (res.error_code === 1050) {
    // The balancer's own account (GET /balancer/requests/{id}, kept --request-status-retention after the end): it
    // ended "cancelled" after it had been sent to a backend, so a running generation was stopped, not a queued
    // request withdrawn. The balancer hears of the close within milliseconds; allow it a second.
    for (let i = 0; i < 10 && !midStream; i++) {
      const s = http.get(`${BASE}/balancer/requests/${id}`, { headers: ADMIN_HEADERS, timeout: '5s',
        tags: { endpoint: 'request_status' } });
      midStream = s.status === 200 && s.json('state') === 'done' && s.json('outcome') === 'cancelled'
        && typeof s.json('backend') === 'string';
      if (!midStream) {
        sleep(0.1);
      }
    }
  }
  abandoned.add(midStream);
}

// Once the load ended, every backend's outstanding count must fall back to 0 within 15 s: an abandoned stream whose
// upstream connection stayed open would keep it up.
export function teardown() {
  let outstanding = -1;
  for (let i = 0; i < 30; i++) {
    const res = http.get(`${BASE}/balancer/status`, { headers: ADMIN_HEADERS, timeout: '10s' });
    if (res.status !== 200) {
      fail(`GET ${BASE}/balancer/status answered ${res.status}`);
    }
    outstanding = (res.json('backends') || []).reduce((sum, b) => sum + (b.outstanding || 0), 0);
    if (outstanding === 0) {
      break;
    }
    sleep(0.5);
  }
  leftOutstanding.add(outstanding);
}
