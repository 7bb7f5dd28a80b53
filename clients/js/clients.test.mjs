// The official JavaScript clients, unchanged, pointed at the balancer instead of one Ollama.
// Run by JsClientsIT with BALANCER_URL set (a balancer in front of simulators serving MODEL and EMBEDDER);
// by hand: BALANCER_URL=http://127.0.0.1:PORT node --test clients/js/
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Ollama } from 'ollama';
import OpenAI from 'openai';

const BASE = process.env.BALANCER_URL;
if (!BASE) {
  throw new Error('BALANCER_URL is not set (e.g. http://127.0.0.1:11434)');
}
const MODEL = process.env.COMPLETION_MODEL ?? 'llama3.2:1b';
const EMBEDDER = process.env.EMBEDDING_MODEL ?? 'all-minilm';
const EMBED_DIMS = Number(process.env.EMBEDDING_DIMS ?? '16');
const MISSING = 'no-such-model:1b';
// A backend that is not the first: a blob put there must be followed by create(), not left to the default.
const BLOB_BACKEND = process.env.BLOB_BACKEND ?? 'b';
const CREATED = process.env.CREATED_MODEL ?? 'js-made:1b';
// In the simulators' registry, installed on none of them: a pull through the balancer reaches every backend.
const PULLED = process.env.PULLED_MODEL ?? 'qwen2.5:0.5b';
// An alias of MODEL declared in the backends file ("aliases"); its checks are skipped when unset.
const ALIAS = process.env.ALIAS_MODEL;
// Ollama lists models by their full name: "all-minilm" is listed as "all-minilm:latest".
const listed = (name) => (name.includes(':') ? name : `${name}:latest`);
// A hang must fail one test, not stall the whole run.
const T = { timeout: 10_000 };

const ollama = new Ollama({ host: BASE });
const openai = new OpenAI({ baseURL: `${BASE}/v1`, apiKey: 'unused-by-ollama', maxRetries: 0, timeout: 10_000 });

/** Drains an ollama-js stream, returning every part in order. */
async function collect(stream) {
  const parts = [];
  for await (const part of stream) {
    parts.push(part);
  }
  return parts;
}

/** ollama-js turns a non-2xx into a ResponseError (not exported) carrying status_code. */
async function rejectsNotFound(promise) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.name, 'ResponseError', `expected a ResponseError, got ${err.name}: ${err.message}`);
    assert.equal(err.status_code, 404);
    assert.match(err.error, /not found/);
    return true;
  });
}

/** An aborted ollama-js stream throws the fetch AbortError out of the iteration. */
async function rejectsAbort(promise) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.name, 'AbortError', `expected an AbortError, got ${err.name}: ${err.message}`);
    return true;
  });
}

describe('ollama-js', () => {
  test('an alias is served as its target and listed by list()', { ...T, skip: !ALIAS }, async () => {
    const r = await ollama.chat({ model: ALIAS, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.model, MODEL);
    assert.equal(r.done, true);
    const parts = await collect(await ollama.generate({ model: ALIAS, prompt: 'hi', stream: true }));
    assert.equal(parts.at(-1).done, true);
    const { models } = await ollama.list();
    const alias = models.find((m) => m.name === ALIAS);
    assert.ok(alias, `list(): ${models.map((m) => m.name)}`);
    assert.equal(alias.digest, models.find((m) => m.name === listed(MODEL)).digest);
  });

  test('list() shows both models from the fleet', T, async () => {
    const { models } = await ollama.list();
    const names = models.map((m) => m.name);
    assert.ok(names.includes(listed(MODEL)), `list(): ${names}`);
    assert.ok(names.includes(listed(EMBEDDER)), `list(): ${names}`);
    assert.equal(new Set(names).size, names.length, `no duplicates across backends: ${names}`);
    const m = models.find((x) => x.name === listed(MODEL));
    assert.ok(m.size > 0);
    assert.match(m.digest, /^[0-9a-f]{64}$/);
    assert.equal(m.details.family, 'llama');
  });

  test('version() reports a semantic version', T, async () => {
    const { version } = await ollama.version();
    assert.match(version, /^\d+\.\d+\.\d+/);
  });

  test('ps() lists the warm model', T, async () => {
    const { models } = await ollama.ps();
    const names = models.map((m) => m.name);
    assert.ok(names.includes(listed(MODEL)), `ps(): ${names}`);
    const m = models.find((x) => x.name === listed(MODEL));
    assert.ok(!Number.isNaN(Date.parse(m.expires_at)), `expires_at: ${m.expires_at}`);
  });

  test('show() describes the model', T, async () => {
    const shown = await ollama.show({ model: MODEL });
    assert.ok(shown.capabilities.includes('completion'), `capabilities: ${shown.capabilities}`);
    assert.equal(shown.details.family, 'llama');
    assert.equal(typeof shown.modelfile, 'string');
  });

  test('generate() without streaming returns one done object', T, async () => {
    const r = await ollama.generate({ model: MODEL, prompt: 'Why is the sky blue?' });
    assert.equal(r.done, true);
    assert.equal(r.model, MODEL);
    assert.ok(r.response.length > 0);
    assert.ok(r.eval_count > 0);
    assert.ok(['stop', 'length'].includes(r.done_reason), `done_reason: ${r.done_reason}`);
  });

  test('generate() streaming yields one part per token and ends with done and metrics', T, async () => {
    const parts = await collect(await ollama.generate({ model: MODEL, prompt: 'Stream please', stream: true }));
    const last = parts.at(-1);
    const text = parts.slice(0, -1);
    assert.ok(text.length > 0, 'at least one text part before the final one');
    assert.ok(text.every((p) => p.done === false), 'only the last part is done');
    assert.equal(last.done, true);
    assert.equal(last.response, '', 'the final object carries no text: the last text came before');
    assert.ok(last.eval_count > 0);
    assert.equal(last.eval_count, text.length, 'one streamed part per generated token');
    assert.ok(last.total_duration > 0);
    const joined = parts.map((p) => p.response).join('');
    assert.equal(joined, text.map((p) => p.response).join(''));
    assert.ok(joined.trim().length > 0);
  });

  test('chat() without streaming returns an assistant message', T, async () => {
    const r = await ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'Hello there' }] });
    assert.equal(r.done, true);
    assert.equal(r.message.role, 'assistant');
    assert.ok(r.message.content.length > 0);
    assert.ok(r.eval_count > 0);
  });

  test('chat() streaming yields assistant deltas and ends with done', T, async () => {
    const parts = await collect(await ollama.chat({
      model: MODEL, messages: [{ role: 'user', content: 'Stream a reply' }], stream: true,
    }));
    const last = parts.at(-1);
    assert.ok(parts.length > 1);
    assert.ok(parts.every((p) => p.message.role === 'assistant'));
    assert.equal(last.done, true);
    assert.ok(last.eval_count > 0);
    assert.equal(last.eval_count, parts.length - 1, 'one streamed part per generated token');
    assert.ok(parts.map((p) => p.message.content).join('').trim().length > 0);
  });

  test('embed() returns one vector per input', T, async () => {
    const r = await ollama.embed({ model: EMBEDDER, input: ['one', 'two'] });
    assert.equal(r.model, EMBEDDER);
    assert.equal(r.embeddings.length, 2);
    for (const v of r.embeddings) {
      assert.equal(v.length, EMBED_DIMS);
      assert.ok(v.every((x) => typeof x === 'number' && Number.isFinite(x)));
    }
    assert.notDeepEqual(r.embeddings[0], r.embeddings[1]);
  });

  test('pull() streams progress that ends with success', T, async () => {
    const parts = await collect(await ollama.pull({ model: MODEL, stream: true }));
    assert.equal(parts[0].status, 'pulling manifest');
    assert.equal(parts.at(-1).status, 'success');
    assert.ok(parts.some((p) => p.total > 0 && p.digest?.startsWith('sha256:')), 'layer progress with a digest');
  });

  test('pull() of a model no backend has is one merged stream with monotonic progress per digest', T, async () => {
    const parts = await collect(await ollama.pull({ model: PULLED, stream: true }));
    assert.equal(parts[0].status, 'pulling manifest');
    assert.equal(parts.at(-1).status, 'success');
    const last = new Map();
    for (const p of parts.filter((x) => x.digest)) {
      const [total, completed] = last.get(p.digest) ?? [0, 0];
      assert.ok(p.total >= total, `total of ${p.digest} shrank: ${p.total} < ${total}`);
      assert.ok((p.completed ?? 0) >= completed, `completed of ${p.digest} went back: ${p.completed} < ${completed}`);
      assert.ok((p.completed ?? 0) <= p.total, `completed above total for ${p.digest}`);
      last.set(p.digest, [p.total, p.completed ?? 0]);
    }
    assert.ok(last.size > 0, 'layer progress with digests');
    for (const [digest, [total, completed]] of last) {
      assert.equal(completed, total, `${digest} ends complete`);
    }
    const { models } = await ollama.list();
    assert.ok(models.some((m) => m.name === listed(PULLED)), 'the pulled model is listed');
  });

  test('create() from an uploaded GGUF blob is made where the blob is', T, async () => {
    // ollama-js 0.6 has no blob upload; the same two calls ollama-python's create_blob and the CLI make: HEAD, POST.
    const bytes = Buffer.concat([Buffer.from('GGUF'), randomBytes(512 * 1024)]);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const blob = `${BASE}/api/blobs/${digest}`;
    assert.equal((await fetch(blob, { method: 'HEAD' })).status, 404);
    const up = await fetch(blob, { method: 'POST', body: bytes, headers: { 'X-Ollama-Backend': BLOB_BACKEND } });
    assert.equal(up.status, 201, await up.text());

    const made = await ollama.create({ model: CREATED, files: { 'js-made.gguf': digest } });
    assert.equal(made.status, 'success');
    const parts = await collect(await ollama.create({ model: CREATED, files: { 'js-made.gguf': digest }, stream: true }));
    assert.equal(parts[0].status, 'parsing GGUF');
    assert.equal(parts.at(-1).status, 'success');
  });

  test('an unknown model rejects with ResponseError 404 "not found"', T, async () => {
    await rejectsNotFound(ollama.generate({ model: MISSING, prompt: 'x' }));
    await rejectsNotFound(ollama.generate({ model: MISSING, prompt: 'x', stream: true }));
    await rejectsNotFound(ollama.chat({ model: MISSING, messages: [{ role: 'user', content: 'x' }] }));
    await rejectsNotFound(ollama.show({ model: MISSING }));
    await rejectsNotFound(ollama.embed({ model: MISSING, input: 'x' }));
  });

  test("aborting a stream through the iterator's abort() does not break the next request", T, async () => {
    const stream = await ollama.generate({
      model: MODEL, prompt: 'A long answer, to be cut short', stream: true, options: { num_predict: 1000 },
    });
    let seen = 0;
    await rejectsAbort((async () => {
      for await (const part of stream) {
        assert.equal(part.done, false, 'aborted before the end');
        seen += 1;
        if (seen === 2) {
          stream.abort();
        }
      }
    })());
    assert.equal(seen, 2);
    const next = await ollama.generate({ model: MODEL, prompt: 'After the abort' });
    assert.equal(next.done, true);
    assert.ok(next.response.length > 0);
  });

  test('ollama.abort() cuts every open stream and the client keeps working', T, async () => {
    const client = new Ollama({ host: BASE });
    const one = await client.chat({
      model: MODEL, messages: [{ role: 'user', content: 'first' }], stream: true, options: { num_predict: 1000 },
    });
    const two = await client.generate({ model: MODEL, prompt: 'second', stream: true, options: { num_predict: 1000 } });
    const first = await one[Symbol.asyncIterator]().next();
    assert.equal(first.done, false);
    client.abort();
    await rejectsAbort(collect(two));
    const after = await collect(await client.chat({
      model: MODEL, messages: [{ role: 'user', content: 'third' }], stream: true,
    }));
    assert.equal(after.at(-1).done, true);
  });
});

describe('openai SDK on /v1', () => {
  test('an alias is served as its target and listed by models.list()', { ...T, skip: !ALIAS }, async () => {
    const r = await openai.chat.completions.create({
      model: ALIAS, messages: [{ role: 'user', content: 'Say hello' }],
    });
    // Responses are the backend's: they name the target the body was rewritten to.
    assert.equal(r.model, MODEL);
    assert.ok(r.choices[0].message.content.length > 0);
    const ids = [];
    for await (const m of openai.models.list()) {
      ids.push(m.id);
    }
    assert.ok(ids.includes(ALIAS), `models: ${ids}`);
  });

  test('models.list() includes the fleet models', T, async () => {
    const ids = [];
    for await (const m of openai.models.list()) {
      assert.equal(m.object, 'model');
      ids.push(m.id);
    }
    assert.ok(ids.includes(listed(MODEL)), `models: ${ids}`);
    assert.ok(ids.includes(listed(EMBEDDER)), `models: ${ids}`);
  });

  test('chat.completions.create without streaming', T, async () => {
    const r = await openai.chat.completions.create({
      model: MODEL, messages: [{ role: 'user', content: 'Say hello' }],
    });
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.model, MODEL);
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0].message.role, 'assistant');
    assert.ok(r.choices[0].message.content.length > 0);
    assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
    assert.ok(r.usage.completion_tokens > 0);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  });

  test('chat.completions.create streaming collects deltas and ends cleanly', T, async () => {
    const stream = await openai.chat.completions.create({
      model: MODEL, messages: [{ role: 'user', content: 'Stream a reply' }], stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish = null;
    let usage = null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      assert.equal(chunk.object, 'chat.completion.chunk');
      if (chunk.usage) {
        usage = chunk.usage;
      }
      for (const c of chunk.choices) {
        text += c.delta.content ?? '';
        finish = c.finish_reason ?? finish;
      }
    }
    assert.ok(chunks > 1);
    assert.ok(text.trim().length > 0);
    assert.ok(['stop', 'length'].includes(finish), `finish_reason: ${finish}`);
    assert.ok(usage && usage.completion_tokens > 0, `usage: ${JSON.stringify(usage)}`);
  });

  test('the chat stream the SDK reads is SSE ending with [DONE]', T, async () => {
    const raw = await openai.chat.completions.create({
      model: MODEL, messages: [{ role: 'user', content: 'Raw stream' }], stream: true,
    }).asResponse();
    assert.equal(raw.status, 200);
    assert.match(raw.headers.get('content-type'), /^text\/event-stream/);
    const body = await raw.text();
    assert.ok(body.startsWith('data: {'), `starts: ${JSON.stringify(body.slice(0, 40))}`);
    assert.ok(body.endsWith('data: [DONE]\n\n'), `ends: ${JSON.stringify(body.slice(-40))}`);
  });

  test('completions.create returns text', T, async () => {
    const r = await openai.completions.create({ model: MODEL, prompt: 'Once upon a time' });
    assert.equal(r.object, 'text_completion');
    assert.equal(r.choices.length, 1);
    assert.ok(r.choices[0].text.length > 0);
    assert.ok(r.usage.completion_tokens > 0);
  });

  test('embeddings.create decodes the default base64 and honours float', T, async () => {
    const b64 = await openai.embeddings.create({ model: EMBEDDER, input: ['alpha', 'beta'] });
    assert.equal(b64.data.length, 2);
    assert.deepEqual(b64.data.map((d) => d.index), [0, 1]);
    for (const d of b64.data) {
      assert.equal(d.embedding.length, EMBED_DIMS);
    }
    const floats = await openai.embeddings.create({ model: EMBEDDER, input: 'alpha', encoding_format: 'float' });
    assert.equal(floats.data.length, 1);
    assert.equal(floats.data[0].embedding.length, EMBED_DIMS);
    // Same input, same model: float32 over the wire in base64 matches the JSON floats to float32 precision.
    floats.data[0].embedding.forEach((x, i) => {
      assert.ok(Math.abs(x - b64.data[0].embedding[i]) <= 1e-6 * Math.max(1, Math.abs(x)), `component ${i}`);
    });
  });

  test('an unknown model is an APIError with status 404', T, async () => {
    const check = (err) => {
      assert.ok(err instanceof OpenAI.APIError, `expected an APIError, got ${err?.constructor?.name}: ${err}`);
      assert.ok(err instanceof OpenAI.NotFoundError);
      assert.equal(err.status, 404);
      assert.match(err.message, /not found/);
      return true;
    };
    await assert.rejects(openai.chat.completions.create({
      model: MISSING, messages: [{ role: 'user', content: 'x' }],
    }), check);
    await assert.rejects(openai.chat.completions.create({
      model: MISSING, messages: [{ role: 'user', content: 'x' }], stream: true,
    }), check);
    await assert.rejects(openai.embeddings.create({ model: MISSING, input: 'x' }), check);
  });
});
