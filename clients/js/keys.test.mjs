// The official JavaScript clients against a balancer with API keys (--api-keys), each passing the key the way it
// documents: ollama-js through its `headers` option, the OpenAI SDK through `apiKey`.
// Run by JsClientKeysIT with BALANCER_URL, API_KEY (a key without limits) and OLLAMA_SLOW_KEY / OPENAI_SLOW_KEY
// (keys allowed one request a minute, one per client so the two checks do not share a bucket).
// Skipped when API_KEY is unset, so that `node --test` over this folder against a keyless balancer passes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import OpenAI from 'openai';

const BASE = process.env.BALANCER_URL;
const KEY = process.env.API_KEY;
const OLLAMA_SLOW = process.env.OLLAMA_SLOW_KEY;
const OPENAI_SLOW = process.env.OPENAI_SLOW_KEY;
const MODEL = process.env.COMPLETION_MODEL ?? 'llama3.2:1b';
const UNAUTHORIZED = 'unauthorized: a valid API key is required (Authorization: Bearer <key>)';
const UNKNOWN = 'sk-nobody-has-this-key';
const T = { timeout: 10_000, skip: KEY ? false : 'API_KEY is not set: the keyed checks need a balancer with --api-keys' };
const messages = [{ role: 'user', content: 'Hello there' }];

/** ollama-js with a key (or none): its documented way to send extra headers. */
const ollamaWith = (key, fetch) => new Ollama({
  host: BASE, ...(key ? { headers: { Authorization: `Bearer ${key}` } } : {}), ...(fetch ? { fetch } : {}),
});
/** The OpenAI SDK on /v1; maxRetries 0 so a 429 surfaces at once instead of being retried after Retry-After. */
const openaiWith = (apiKey) => new OpenAI({ baseURL: `${BASE}/v1`, apiKey, maxRetries: 0, timeout: 10_000 });

async function collect(stream) {
  const parts = [];
  for await (const part of stream) {
    parts.push(part);
  }
  return parts;
}

/** ollama-js turns a non-2xx into a ResponseError carrying status_code and Ollama's error text. */
async function rejectsWith(promise, status, text) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.name, 'ResponseError', `expected a ResponseError, got ${err.name}: ${err.message}`);
    assert.equal(err.status_code, status);
    assert.equal(err.error, text);
    assert.equal(err.message, text);
    return true;
  });
}

/** The OpenAI SDK's error class for the status, with the OpenAI envelope's fields and the response headers. */
function openAiError(type, status, text, envelope, check = () => {}) {
  return (err) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${err?.constructor?.name}: ${err}`);
    assert.ok(err instanceof OpenAI.APIError);
    assert.equal(err.status, status);
    assert.equal(err.message, `${status} ${text}`);
    // OpenAI's own type and code for the refusal, as a client reading error.code expects.
    assert.deepEqual(err.error, { message: text, param: null, ...envelope });
    assert.equal(err.type, envelope.type);
    assert.equal(err.code, envelope.code);
    check(err);
    return true;
  };
}

describe('ollama-js with an API key in its headers option', () => {
  test('a valid key is served: chat, generate, both streaming, list', T, async () => {
    const ollama = ollamaWith(KEY);
    const chat = await ollama.chat({ model: MODEL, messages });
    assert.equal(chat.done, true);
    assert.ok(chat.message.content.length > 0);
    const generated = await ollama.generate({ model: MODEL, prompt: 'Why is the sky blue?' });
    assert.equal(generated.done, true);
    assert.ok(generated.response.length > 0);
    const parts = await collect(await ollama.generate({ model: MODEL, prompt: 'Stream please', stream: true }));
    assert.ok(parts.length > 1);
    assert.equal(parts.at(-1).done, true);
    const chatParts = await collect(await ollama.chat({ model: MODEL, messages, stream: true }));
    assert.ok(chatParts.length > 1);
    assert.equal(chatParts.at(-1).done, true);
    const { models } = await ollama.list();
    assert.ok(models.some((m) => m.name === MODEL), `list(): ${models.map((m) => m.name)}`);
  });

  test('a missing or unknown key is a ResponseError 401 with the error text', T, async () => {
    for (const ollama of [ollamaWith(null), ollamaWith(UNKNOWN)]) {
      await rejectsWith(ollama.chat({ model: MODEL, messages }), 401, UNAUTHORIZED);
      await rejectsWith(ollama.chat({ model: MODEL, messages, stream: true }), 401, UNAUTHORIZED);
      await rejectsWith(ollama.generate({ model: MODEL, prompt: 'x' }), 401, UNAUTHORIZED);
      await rejectsWith(ollama.generate({ model: MODEL, prompt: 'x', stream: true }), 401, UNAUTHORIZED);
      await rejectsWith(ollama.list(), 401, UNAUTHORIZED);
    }
  });

  test('a key over its requests per minute is a ResponseError 429 with Retry-After', T, async () => {
    // ollama-js keeps no headers on its error; its `fetch` option lets the caller see the response they came with.
    const seen = [];
    const ollama = ollamaWith(OLLAMA_SLOW, async (url, init) => {
      const response = await fetch(url, init);
      seen.push(response);
      return response;
    });
    const first = await ollama.generate({ model: MODEL, prompt: 'the one request this minute' });
    assert.equal(first.done, true);
    const over = "rate limit exceeded: key 'ollama-js-slow' may send 1 requests per minute";
    await rejectsWith(ollama.generate({ model: MODEL, prompt: 'x' }), 429, over);
    await rejectsWith(ollama.generate({ model: MODEL, prompt: 'x', stream: true }), 429, over);
    await rejectsWith(ollama.chat({ model: MODEL, messages }), 429, over);
    await rejectsWith(ollama.chat({ model: MODEL, messages, stream: true }), 429, over);
    assert.deepEqual(seen.map((r) => r.status), [200, 429, 429, 429, 429]);
    for (const r of seen.slice(1)) {
      const retry = Number(r.headers.get('retry-after'));
      assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After: ${r.headers.get('retry-after')}`);
    }
  });
});

describe('openai SDK on /v1 with apiKey', () => {
  test('a valid key is served: chat.completions, streaming and not, and models.list', T, async () => {
    const openai = openaiWith(KEY);
    const r = await openai.chat.completions.create({ model: MODEL, messages });
    assert.equal(r.object, 'chat.completion');
    assert.ok(r.choices[0].message.content.length > 0);
    const stream = await openai.chat.completions.create({ model: MODEL, messages, stream: true });
    let text = '';
    let finish = null;
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        text += c.delta.content ?? '';
        finish = c.finish_reason ?? finish;
      }
    }
    assert.ok(text.trim().length > 0);
    assert.ok(['stop', 'length'].includes(finish), `finish_reason: ${finish}`);
    const ids = [];
    for await (const m of openai.models.list()) {
      ids.push(m.id);
    }
    assert.ok(ids.includes(MODEL), `models: ${ids}`);
  });

  test('an unknown key is an AuthenticationError 401 in the OpenAI envelope', T, async () => {
    const openai = openaiWith(UNKNOWN);
    const check = openAiError(OpenAI.AuthenticationError, 401, UNAUTHORIZED,
      { type: 'invalid_request_error', code: 'invalid_api_key' }, (err) => {
      assert.equal(err.headers.get('www-authenticate'), 'Bearer');
    });
    await assert.rejects(openai.chat.completions.create({ model: MODEL, messages }), check);
    await assert.rejects(openai.chat.completions.create({ model: MODEL, messages, stream: true }), check);
    await assert.rejects(openai.completions.create({ model: MODEL, prompt: 'x' }), check);
    await assert.rejects(openai.models.list(), check);
  });

  test('a key over its requests per minute is a RateLimitError 429 with Retry-After', T, async () => {
    const openai = openaiWith(OPENAI_SLOW);
    const first = await openai.chat.completions.create({ model: MODEL, messages });
    assert.ok(first.choices[0].message.content.length > 0);
    const over = "rate limit exceeded: key 'openai-slow' may send 1 requests per minute";
    const check = openAiError(OpenAI.RateLimitError, 429, over,
      { type: 'requests', code: 'rate_limit_exceeded' }, (err) => {
      const retry = Number(err.headers.get('retry-after'));
      assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After: ${err.headers.get('retry-after')}`);
    });
    await assert.rejects(openai.chat.completions.create({ model: MODEL, messages }), check);
    await assert.rejects(openai.chat.completions.create({ model: MODEL, messages, stream: true }), check);
    await assert.rejects(openai.completions.create({ model: MODEL, prompt: 'x' }), check);
  });
});
