// qkv serve under hostile input: 1,000 malformed requests (bad JSON, wrong types, huge numbers, huge bodies, unknown
// models and routes, wrong content types, deep nesting, unsupported options, slow-loris partial headers and bodies)
// each get a 4xx naming what is wrong, never a 5xx, and the server keeps serving; a full queue answers 429 with
// Retry-After.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { startServer } from '../../src/serve/server.js';
import type { QkvServer } from '../../src/serve/server.js';
import { slowGpt, tinyModels } from './models.js';

let server: QkvServer;
const MAX_BODY = 16 * 1024;

before(async () => {
  const t = await tinyModels(512);
  server = await startServer({
    models: [{ name: 'gpt', path: t.gpt }, { name: 'g2p', path: t.g2p }, { name: 'clf', path: t.classifier }, { name: 'slow', path: await slowGpt(t) }],
    port: 0, slots: 2, maxQueue: 2, maxTokens: 1000, maxBodyBytes: MAX_BODY, requestTimeoutSeconds: 4, timeoutSeconds: 60,
  });
});
after(async () => { await server?.shutdown(5); });

interface Answer { status: number; body: string; headers: Record<string, string | string[] | undefined> }

/** One request on a connection of its own; a connection the server closed before answering is status 0. */
function send(method: string, path: string, body: string | Buffer | null, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(`${server.url}${path}`, { method, headers, agent: false, timeout: 20_000 }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '', headers: {} }));
    req.end(body ?? undefined);
  });
}

/** A client that sends a request's first bytes and then nothing: what the server answers before it closes. */
function slowLoris(partial: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(server.port, '127.0.0.1', () => s.write(partial));
    let data = '';
    const timer = setTimeout(() => s.destroy(), 20_000);
    s.on('data', (d) => { data += d; });
    s.on('close', () => { clearTimeout(timer); resolve(data.split('\r\n')[0]); });
    s.on('error', () => {});
  });
}

interface Case { method?: string; path?: string; body: string | Buffer | null; headers?: Record<string, string>; want: number; param?: string | null; slow?: string }

const ok = { model: 'gpt', prompt: 'the cat', max_tokens: 4, temperature: 0 };
const json = (o: unknown) => JSON.stringify(o);

/** The 1,000 requests: each with the status it must get and, for a bad field, the field its error must name. */
function cases(): Case[] {
  const out: Case[] = [];
  const bad = ['{', '{"model": "gpt",', '{"model": gpt}', 'not json', '{"a":1,}', "{'model': 'gpt'}", '{"model": "gpt"}}', '\u0000\u0001', '[1, 2', '{"prompt": "\\x"}', '{"model": 1e}', ''];
  for (let i = 0; i < 140; i++) out.push({ body: bad[i % bad.length] + ' '.repeat(i % 3), want: 400 });
  const wrongTypes: [string, unknown][] = [
    ['model', 5], ['model', null], ['model', ''], ['prompt', { text: 'x' }], ['prompt', 17], ['prompt', [1, 2, 3]], ['prompt', ['a', 'b']],
    ['max_tokens', '10'], ['max_tokens', 2.5], ['max_tokens', 0], ['max_tokens', -3], ['temperature', 'hot'], ['temperature', -1],
    ['top_p', []], ['top_p', 0], ['stream', 'yes'], ['stream', 1], ['stop', 5], ['stop', ['a', 'b', 'c', 'd', 'e']], ['stop', [1]],
    ['seed', -1], ['seed', 'x'], ['n', 2], ['echo', true], ['logprobs', 5], ['best_of', 3], ['suffix', 'x'], ['presence_penalty', 0.5],
    ['frequency_penalty', 1], ['logit_bias', { 5: 100 }], ['stream_options', 'x'], ['user', 7],
  ];
  for (let i = 0; i < 256; i++) {
    const [field, value] = wrongTypes[i % wrongTypes.length];
    out.push({ path: '/v1/completions', body: json({ ...ok, [field]: value }), want: 400, param: field });
  }
  const huge: [string, unknown][] = [['max_tokens', 1e300], ['max_tokens', 2 ** 53], ['max_tokens', 1001], ['temperature', 1e308], ['top_p', 1e9], ['seed', 1e100], ['prompt', 'x'.repeat(16_385)]];
  for (let i = 0; i < 140; i++) {
    const [field, value] = huge[i % huge.length];
    out.push({ body: json({ ...ok, [field]: value }), want: field === 'prompt' ? 413 : 400, param: field === 'prompt' ? undefined : field });
  }
  const big = Buffer.alloc(MAX_BODY * 4, 'a');
  for (let i = 0; i < 30; i++) out.push({ body: big, want: 413, headers: i % 2 ? { 'content-type': 'application/json' } : { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
  for (let i = 0; i < 100; i++) out.push({ body: json({ ...ok, model: `nope-${i}` }), want: 404, param: 'model' });
  const routes = ['/v1/chat/completions', '/v2/completions', '/', '/v1/models/x', '/admin', '/%00', '/v1/completions/../../etc/passwd'];
  for (let i = 0; i < 50; i++) out.push({ method: i % 5 === 0 ? 'PUT' : 'POST', path: routes[i % routes.length], body: json(ok), want: 404 });
  for (let i = 0; i < 40; i++) out.push({ body: json(ok), headers: { 'content-type': ['application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'image/png'][i % 4] }, want: 415 });
  for (let i = 0; i < 30; i++) out.push({ body: `{"__proto__": {"admin": true}, "model": "gpt", "prompt": "x${i}"}`, want: 400 });
  for (let i = 0; i < 20; i++) out.push({ body: '['.repeat(4000 + i) + ']'.repeat(4000 + i), want: 400, param: null });
  for (let i = 0; i < 20; i++) out.push({ body: json({ ...ok, prompt: [[['x', i]]] }), want: 400, param: 'prompt' });
  const tasks: [string, unknown, string | null][] = [
    ['/v1/g2p', { input: 5 }, 'input'], ['/v1/g2p', { input: Array(65).fill('a') }, 'input'], ['/v1/g2p', { input: 'cat', num_beams: 0 }, 'num_beams'],
    ['/v1/g2p', { input: 'cat', num_beams: 1e9 }, 'num_beams'], ['/v1/g2p', { input: 'cat', max_new_tokens: 1e12 }, 'max_new_tokens'], ['/v1/g2p', { model: 'zzz', input: 'cat' }, 'model'],
    ['/v1/translate', { input: 'cat' }, 'model'], ['/v1/classify', { input: 'x', top_k: -1 }, 'top_k'], ['/v1/classify', { input: [] }, 'input'],
    ['/v1/attention', { model: 'gpt', input: 'x'.repeat(2049) }, 'input'], ['/v1/attention', { model: 'clf', input: 'x' }, 'model'], ['/v1/attention', { input: 'x', max_new_tokens: 65, model: 'gpt' }, 'max_new_tokens'],
    ['/v1/completions', { model: 'g2p', prompt: 'x' }, 'model'], ['/v1/g2p', [], null],
  ];
  for (let i = 0; i < 154; i++) {
    const [path, body, param] = tasks[i % tasks.length];
    out.push({ path, body: json(body), want: path === '/v1/g2p' && (body as { model?: string }).model === 'zzz' ? 404 : 400, param });
  }
  for (let i = 0; i < 20; i++) {
    const partial = i % 2 === 0
      ? `POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"model": "gpt", "pro`
      : 'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Ty';
    out.push({ body: null, slow: partial, want: 408 });
  }
  return out;
}

test('1,000 malformed or hostile requests each get the 4xx they should, naming the field; the server keeps serving', async () => {
  const all = cases();
  assert.equal(all.length, 1000);
  const got: { c: Case; status: number; body: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < all.length) {
      const c = all[next++];
      if (c.slow) {
        const line = await slowLoris(c.slow);
        got.push({ c, status: Number(/^HTTP\/1\.1 (\d+)/.exec(line)?.[1] ?? 0), body: '' });
        continue;
      }
      const a = await send(c.method ?? 'POST', c.path ?? '/v1/completions', c.body, c.headers);
      got.push({ c, status: a.status, body: a.body });
    }
  };
  await Promise.all(Array.from({ length: 24 }, worker));
  const wrong = got.filter((g) => g.status !== g.c.want && !(g.c.want === 413 && g.status === 0));
  assert.deepEqual(wrong.slice(0, 5).map((g) => ({ want: g.c.want, status: g.status, path: g.c.path, body: g.body.slice(0, 200), sent: String(g.c.body).slice(0, 80) })), []);
  // A 413 may come as the server closing the upload early: at most a few of those, the rest answered.
  assert.ok(got.filter((g) => g.status === 0).length <= 15, 'most oversized uploads get their 413');
  for (const g of got) {
    if (g.c.param === undefined || g.status === 0) continue;
    const e = (JSON.parse(g.body) as { error: { message: string; param: string | null } }).error;
    assert.equal(e.param, g.c.param, `${String(g.c.body).slice(0, 80)} → ${e.message}`);
    if (g.c.param) assert.ok(e.message.includes(g.c.param), `the message names ${g.c.param}: ${e.message}`);
  }
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.doesNotMatch(metrics, /^qkv_requests_total\{[^}]*status="5\d\d"\}/m, 'no 5xx answered');
  const health = await (await fetch(`${server.url}/health`)).json() as { status: string };
  assert.equal(health.status, 'ok');
  const r = await send('POST', '/v1/completions', json(ok));
  assert.equal(r.status, 200);
  assert.equal((JSON.parse(r.body) as { choices: { finish_reason: string }[] }).choices[0].finish_reason.length > 0, true);
});

test('past its slots and its queue a model answers 429 with Retry-After, and serves again once they free', async () => {
  const long = { model: 'slow', prompt: 'the', max_tokens: 1000, temperature: 0, stream: true };
  const streams: ReturnType<typeof request>[] = [];
  await new Promise<void>((resolve) => {
    for (let i = 0; i < 4; i++) {
      const req = request(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
        res.once('data', () => resolve());
        res.resume();
      });
      req.on('error', () => {});
      req.end(json(long));
      streams.push(req);
    }
  });
  // 2 running, 2 waiting: the fifth is refused.
  const busy = await send('POST', '/v1/completions', json({ ...long, stream: false }));
  assert.equal(busy.status, 429);
  assert.equal(busy.headers['retry-after'], '1');
  assert.match(busy.body, /model 'slow' is busy: 2 completions running and 2 waiting/);
  // The clients go away: their slots and places in the queue are freed, and the model serves again.
  for (const s of streams) s.destroy();
  let status = 429;
  for (let i = 0; i < 100 && status === 429; i++) {
    await new Promise((r) => setTimeout(r, 100));
    status = (await send('POST', '/v1/completions', json({ ...ok, model: 'slow' }))).status;
  }
  assert.equal(status, 200);
});
