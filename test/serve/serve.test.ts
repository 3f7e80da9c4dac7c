// qkv serve's endpoints through real HTTP on loopback: the official openai client gets completions and streamed
// completions; 24 concurrent greedy completions (batched into shared decoding steps) give exactly what the
// library's pipeline gives for each prompt alone; the task endpoints answer as the pipelines do; /health answers
// while a long generation runs; /metrics counts it all.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { pipeline } from '../../src/node/pretrained.js';
import { startServer } from '../../src/serve/server.js';
import type { QkvServer } from '../../src/serve/server.js';
import { tinyModels } from './models.js';
import type { TinyModels } from './models.js';

let t: TinyModels;
let server: QkvServer;
let client: OpenAI;

before(async () => {
  t = await tinyModels(128);
  server = await startServer({
    models: [{ name: 'gpt', path: t.gpt }, { name: 'g2p', path: t.g2p }, { name: 'clf', path: t.classifier }],
    port: 0, slots: 8, maxQueue: 64, maxTokens: 120,
  });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 60_000 });
});
after(async () => { await server?.shutdown(5); });

const post = async (path: string, body: unknown) => {
  const r = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() as Record<string, unknown> };
};

/** What the library's pipeline answers for one prompt alone (greedy; the continuation only). */
async function alone(prompt: string, maxNewTokens: number): Promise<string> {
  const gen = await pipeline('text-generation', t.gpt);
  return gen(prompt, { maxNewTokens, returnFullText: false });
}

const PROMPTS = ['the cat', 'a bird flew', 'the old barn and', 'on the', 'the river ran on. the dog', 'sat', 'the mat. the log.', 'over'];

test('the openai client gets a completion, with usage, equal to the pipeline\'s greedy text', async () => {
  const r = await client.completions.create({ model: 'gpt', prompt: 'the cat', max_tokens: 12, temperature: 0 });
  assert.equal(r.object, 'text_completion');
  assert.equal(r.model, 'gpt');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].text, await alone('the cat', 12));
  assert.ok(['length', 'stop'].includes(r.choices[0].finish_reason));
  const promptTokens = t.tokenizer.encode('the cat').length;
  assert.deepEqual(r.usage, { prompt_tokens: promptTokens, completion_tokens: r.usage!.completion_tokens, total_tokens: promptTokens + r.usage!.completion_tokens });
  assert.ok(r.usage!.completion_tokens >= 1 && r.usage!.completion_tokens <= 12);
});

test('the openai client gets a streamed completion: its pieces join to the same text, the last chunk says why it ended', async () => {
  const stream = await client.completions.create({ model: 'gpt', prompt: 'a bird flew', max_tokens: 20, temperature: 0, stream: true, stream_options: { include_usage: true } });
  const pieces: string[] = [];
  let finish: string | null = null;
  let usage: { completion_tokens: number } | null = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      pieces.push(c.text);
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.ok(pieces.filter((p) => p).length > 2, `streamed in pieces: ${JSON.stringify(pieces)}`);
  assert.equal(pieces.join(''), await alone('a bird flew', 20));
  assert.ok(finish === 'length' || finish === 'stop');
  assert.ok(usage && usage.completion_tokens >= 1);
});

test('24 concurrent greedy completions (sharing decoding steps) each equal the pipeline\'s answer to that prompt alone', async () => {
  const jobs = Array.from({ length: 24 }, (_, i) => ({ prompt: PROMPTS[i % PROMPTS.length], max: 8 + ((i * 7) % 40) }));
  const before = await batchSizes();
  const got = await Promise.all(jobs.map(async (j, i) => {
    if (i % 2 === 0) return (await client.completions.create({ model: 'gpt', prompt: j.prompt, max_tokens: j.max, temperature: 0 })).choices[0].text;
    let text = '';
    for await (const c of await client.completions.create({ model: 'gpt', prompt: j.prompt, max_tokens: j.max, temperature: 0, stream: true })) text += c.choices[0]?.text ?? '';
    return text;
  }));
  for (const [i, j] of jobs.entries()) assert.equal(got[i], await alone(j.prompt, j.max), `request ${i}: ${JSON.stringify(j)}`);
  const after = await batchSizes();
  assert.ok(after.multi > before.multi, `some decoding steps held more than one sequence (${before.multi} → ${after.multi})`);
});

test('sampling with a seed gives one text per seed, and a stop string cuts the text before it', async () => {
  const a = await client.completions.create({ model: 'gpt', prompt: 'the', max_tokens: 30, temperature: 0.9, top_p: 0.95, seed: 42 });
  const b = await client.completions.create({ model: 'gpt', prompt: 'the', max_tokens: 30, temperature: 0.9, top_p: 0.95, seed: 42 });
  assert.equal(a.choices[0].text, b.choices[0].text);
  const full = await alone('the cat', 40);
  const stop = full.slice(5, 7);
  assert.ok(stop.length === 2, `a stop string from the text: ${JSON.stringify(full)}`);
  const cut = await client.completions.create({ model: 'gpt', prompt: 'the cat', max_tokens: 40, temperature: 0, stop: [stop, 'zzzz'] });
  assert.equal(cut.choices[0].text, full.slice(0, full.indexOf(stop)));
  assert.equal(cut.choices[0].finish_reason, 'stop');
});

test('the task endpoints answer as the pipelines do, for one input or several (and concurrent requests batched together)', async () => {
  const g2p = await pipeline('g2p', t.g2p);
  const words = ['cat', 'hello', 'world', 'a', 'read'];
  const one = await post('/v1/g2p', { input: 'cat' });
  assert.equal(one.status, 200);
  assert.deepEqual(one.body, { model: 'g2p', output: await g2p('cat') });
  const many = await Promise.all(words.map((w) => post('/v1/g2p', { model: 'g2p', input: [w, w.toUpperCase()], num_beams: 1 })));
  for (const [i, w] of words.entries()) assert.deepEqual(many[i].body.output, await g2p([w, w.toUpperCase()], { numBeams: 1 }));
  const clf = await pipeline('classify', t.classifier);
  const c = await post('/v1/classify', { input: ['win money now', 'see you at lunch'], top_k: null });
  assert.equal(c.status, 200);
  const want = (await clf(['win money now', 'see you at lunch'], { topK: null })) as { label: string; score: number }[][];
  for (const [i, labels] of (c.body.output as { label: string; score: number }[][]).entries()) {
    assert.deepEqual(labels.map((l) => l.label), want[i].map((l) => l.label));
    for (const [k, l] of labels.entries()) assert.ok(Math.abs(l.score - want[i][k].score) < 1e-6);
  }
  const att = await post('/v1/attention', { model: 'gpt', input: 'the cat sat' });
  assert.equal(att.status, 200);
  const tokens = att.body.tokens as string[];
  assert.deepEqual(tokens, t.tokenizer.encode('the cat sat').map((id) => t.tokenizer.decode([id])));
  const maps = att.body.self_attentions as { shape: number[]; data: number[] }[];
  assert.equal(maps.length, 2);
  const T = tokens.length;
  assert.deepEqual(maps[0].shape, [1, 4, T, T]);
  for (let row = 0; row < 4 * T; row++) {
    const r = maps[0].data.slice(row * T, (row + 1) * T);
    assert.ok(Math.abs(r.reduce((s, x) => s + x, 0) - 1) < 1e-4, 'each row a softmax');
    assert.ok(r.slice((row % T) + 1).every((x) => x === 0), 'causal');
  }
  const wrong = await post('/v1/g2p', { model: 'gpt', input: 'cat' });
  assert.equal(wrong.status, 400);
  assert.match((wrong.body.error as { message: string }).message, /model 'gpt' \(a 'gpt' model, task lm\) does not answer \/v1\/g2p/);
});

test('/health and /v1/models answer while a long generation runs in the model thread', async () => {
  let settled = false;
  const long = client.completions.create({ model: 'gpt', prompt: 'the', max_tokens: 120, temperature: 0 }).finally(() => { settled = true; });
  let during = 0;
  while (!settled) {
    const h = await (await fetch(`${server.url}/health`)).json() as { status: string; models: { name: string; active: number }[] };
    assert.equal(h.status, 'ok');
    if (!settled && h.models.find((m) => m.name === 'gpt')!.active === 1) during++;
  }
  assert.ok(during >= 1, `/health answered ${during} times while the completion was being decoded`);
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), ['gpt', 'g2p', 'clf']);
  assert.equal((await long).choices[0].text, await alone('the', 120));
});

test('/metrics counts requests, tokens and batch sizes in Prometheus\' format', async () => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(text, /^qkv_requests_total\{endpoint="completions",status="200"\} \d+$/m);
  assert.match(text, /^qkv_generated_tokens_total\{model="gpt"\} [1-9]\d*$/m);
  assert.match(text, /^qkv_batch_size_count\{model="gpt",kind="decode"\} [1-9]\d*$/m);
  assert.match(text, /^qkv_queue_depth\{model="gpt"\} 0$/m);
  assert.match(text, /^qkv_active_sequences\{model="gpt"\} 0$/m);
  assert.match(text, /^qkv_process_resident_memory_bytes \d+/m);
  assert.match(text, /^qkv_time_to_first_token_seconds_count\{model="gpt"\} [1-9]\d*$/m);
});

/** Decoding steps so far, and those that held more than one sequence (from the batch-size histogram). */
async function batchSizes(): Promise<{ all: number; multi: number }> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  const all = num(/^qkv_batch_size_count\{model="gpt",kind="decode"\} (\d+)$/m);
  const one = num(/^qkv_batch_size_bucket\{le="1",model="gpt",kind="decode"\} (\d+)$/m);
  return { all, multi: all - one };
}
