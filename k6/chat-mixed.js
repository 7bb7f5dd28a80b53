// A mixed chat workload through the balancer, each part at its own constant arrival rate:
//   chat_stream     streaming /api/chat (NDJSON), normal priority
//   chat_whole      non-streaming /api/chat, X-Priority: high
//   openai_stream   streaming /v1/chat/completions (SSE, OpenAI shape), X-Priority: low
//
//   k6 run -e BALANCER_URL=http://127.0.0.1:3000 k6/chat-mixed.js
//   k6 run -e BALANCER_URL=http://127.0.0.1:3000 -e RATE=10 -e DURATION=5m k6/chat-mixed.js
//
// RATE is the arrival rate per second of chat_stream; the other two run at half of it. Thresholds are per
// scenario (k6 tags every request with its scenario), so a slow part cannot hide behind a fast one.
import http from 'k6/http';
import { check, fail } from 'k6';
import { Rate, Trend } from 'k6/metrics';
import { arrivalScenario, BASE, MODEL, ndjson, requireModel, streamComplete } from './lib.js';

const RATE = parseInt(__ENV.RATE || '10', 10);
const HALF = Math.max(1, Math.floor(RATE / 2));
const DURATION = __ENV.DURATION || '1m';
const NUM_PREDICT = parseInt(__ENV.NUM_PREDICT || '64', 10);
const MAX_VUS = parseInt(__ENV.MAX_VUS || '500', 10);

const ttfb = new Trend('chat_ttfb', true);
const incomplete = new Rate('chat_incomplete');

function scenario(exec, rate) {
  return arrivalScenario(exec, rate, DURATION, MAX_VUS, '2m');
}

export const options = {
  scenarios: {
    chat_stream: scenario('chatStream', RATE),
    chat_whole: scenario('chatWhole', HALF),
    openai_stream: scenario('openaiStream', HALF),
  },
  thresholds: {
    'http_req_failed{scenario:chat_stream}': ['rate<0.01'],
    'http_req_failed{scenario:chat_whole}': ['rate<0.01'],
    'http_req_failed{scenario:openai_stream}': ['rate<0.01'],
    'chat_ttfb{scenario:chat_stream}': ['p(99)<5000'],
    'chat_ttfb{scenario:openai_stream}': ['p(99)<10000'],
    'http_req_duration{scenario:chat_whole}': ['p(95)<30000'],
    chat_incomplete: ['rate<0.01'],
    checks: ['rate>0.99'],
  },
};

export function setup() {
  requireModel(http, fail);
}

function messages() {
  return [
    { role: 'system', content: 'You are a concise assistant.' },
    { role: 'user', content: `Why is the sky blue? (${__VU}-${__ITER})` },
  ];
}

function post(path, payload, priority, tags) {
  const headers = { 'Content-Type': 'application/json' };
  if (priority) {
    headers['X-Priority'] = priority;
  }
  return http.post(`${BASE}${path}`, JSON.stringify(payload), { headers, timeout: '300s', tags });
}

export function chatStream() {
  const res = post('/api/chat', { model: MODEL, messages: messages(), stream: true,
    options: { num_predict: NUM_PREDICT } }, null, { endpoint: 'chat', stream: 'true' });
  const lines = ndjson(res.body);
  const complete = res.status === 200 && streamComplete(lines)
    && lines.slice(0, -1).every((l) => l.message && l.message.role === 'assistant');
  check(res, {
    'chat stream: status 200': (r) => r.status === 200,
    'chat stream: assistant chunks, done:true last': () => complete,
  });
  incomplete.add(!complete);
  if (res.status === 200) {
    ttfb.add(res.timings.waiting);
  }
}

export function chatWhole() {
  const res = post('/api/chat', { model: MODEL, messages: messages(), stream: false,
    options: { num_predict: NUM_PREDICT } }, 'high', { endpoint: 'chat', stream: 'false' });
  let doc = null;
  try {
    doc = res.json();
  } catch (e) {
    doc = null;
  }
  check(res, {
    'chat whole: status 200': (r) => r.status === 200,
    'chat whole: one object, done:true with a message': () => doc !== null && doc.done === true
      && doc.message !== undefined && typeof doc.message.content === 'string',
  });
}

export function openaiStream() {
  const res = post('/v1/chat/completions', { model: MODEL, messages: messages(), stream: true,
    max_tokens: NUM_PREDICT }, 'low', { endpoint: 'v1_chat', stream: 'true' });
  const events = (res.body || '').split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
  const complete = res.status === 200 && events.length > 1 && events[events.length - 1] === '[DONE]'
    && events.slice(0, -1).every((e) => {
      try {
        return JSON.parse(e).object === 'chat.completion.chunk';
      } catch (err) {
        return false;
      }
    });
  check(res, {
    'openai stream: status 200': (r) => r.status === 200,
    'openai stream: event-stream content type': (r) => (r.headers['Content-Type'] || '').startsWith('text/event-stream'),
    'openai stream: chunks then [DONE]': () => complete,
  });
  incomplete.add(!complete);
  if (res.status === 200) {
    ttfb.add(res.timings.waiting);
  }
}
