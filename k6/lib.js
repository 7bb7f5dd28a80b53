// Shared helpers of the k6 scripts in this folder: the balancer's address and reading an Ollama NDJSON answer.
// k6 reads a whole response before handing it to the script, so a stream is checked after it ended; the time to
// first byte (res.timings.waiting) stands in for the time to first token (see README.md).

export const BASE = (__ENV.BALANCER_URL || 'http://127.0.0.1:3000').replace(/\/+$/, '');
export const MODEL = __ENV.MODEL || 'llama3.2:1b';

// The lines of an NDJSON body, parsed; a line that is not JSON becomes {__bad: '<line>'}.
export function ndjson(body) {
  if (typeof body !== 'string' || body.length === 0) {
    return [];
  }
  return body.split('\n').filter((l) => l.trim() !== '').map((l) => {
    try {
      return JSON.parse(l);
    } catch (e) {
      return { __bad: l };
    }
  });
}

// Whether a streamed Ollama answer is complete: every line is JSON, none is an error, the last one says done.
export function streamComplete(lines) {
  if (lines.length === 0) {
    return false;
  }
  const last = lines[lines.length - 1];
  return lines.every((l) => !l.__bad && l.error === undefined) && last.done === true;
}

// A model name as Ollama compares them: lower case, and the tag defaulting to "latest" ("all-minilm" is
// "all-minilm:latest"; a ":" before the last "/" belongs to a registry host, not a tag).
export function normalizeModel(name) {
  const n = String(name).trim().toLowerCase();
  return n.lastIndexOf(':') > n.lastIndexOf('/') ? n : `${n}:latest`;
}

// The fleet's name for `wanted` among `names` (as /api/tags lists them), or undefined.
export function findModel(names, wanted) {
  const w = normalizeModel(wanted);
  return names.find((n) => normalizeModel(n) === w);
}

// The balancer must list the model before the load starts (setup() of each script).
export function requireModel(http, fail) {
  const res = http.get(`${BASE}/api/tags`, { timeout: '10s' });
  if (res.status !== 200) {
    fail(`GET ${BASE}/api/tags answered ${res.status}; is the balancer running (BALANCER_URL)?`);
  }
  const names = (res.json('models') || []).map((m) => m.name);
  if (findModel(names, MODEL) === undefined) {
    fail(`no backend behind ${BASE} has ${MODEL} (models: ${names.join(', ')})`);
  }
}

// A constant-arrival-rate scenario running `exec` at `rate` iterations/s for `duration`, with up to `maxVUs`
// virtual users (ten per unit of rate allocated up front) and `gracefulStop` for the last answers to end.
export function arrivalScenario(exec, rate, duration, maxVUs, gracefulStop) {
  return {
    executor: 'constant-arrival-rate',
    exec,
    rate,
    timeUnit: '1s',
    duration,
    preAllocatedVUs: Math.min(maxVUs, rate * 10),
    maxVUs,
    gracefulStop,
  };
}
