// qkv serve's beam search completions (vLLM's use_beam_search, best_of, n) against the library's beam search, the
// batched /v1/attention against causalAttentions of each text alone, and a one-shot request that times out: the
// model thread stops it and is free again.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { beamSearchCausal } from '../../src/generate/beam.js';
import { causalAttentions } from '../../src/inference/attentions.js';
import { startServer } from '../../src/serve/server.js';
import type { QkvServer } from '../../src/serve/server.js';
import { slowGpt, tinyModels } from './models.js';
import type { TinyModels } from './models.js';

let t: TinyModels;
let server: QkvServer;
let hasty: QkvServer;

before(async () => {
  t = await tinyModels(128);
  server = await startServer({ models: [{ name: 'gpt', path: t.gpt }], port: 0, slots: 4, maxQueue: 16, maxTokens: 64 });
  // A server whose requests may take 0.3 s, serving a GPT whose 16-beam search of 1,000 tokens takes far longer.
  hasty = await startServer({ models: [{ name: 'slow', path: await slowGpt(t) }], port: 0, slots: 2, maxQueue: 4, maxTokens: 1000, timeoutSeconds: 0.3 });
});
after(async () => { await Promise.all([server?.shutdown(5), hasty?.shutdown(5)]); });

const post = async (base: QkvServer, path: string, body: unknown) => {
  const r = await fetch(`${base.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() as Record<string, unknown> };
};

/** The library's beam search on the same weights: the n best continuations of a prompt, as text. */
function libraryBeams(prompt: string, beams: number, n: number, maxTokens: number): string[] {
  const ids = t.tokenizer.encode(prompt);
  const [found] = beamSearchCausal(t.gptModel, [ids], { eos: t.tokenizer.eosId, maxLen: maxTokens, beamSize: beams });
  return found.slice(0, n).map((h) => t.tokenizer.decode(h.tokens));
}

test('use_beam_search: the n best of best_of beams, as the library\'s beam search finds them, with usage', async () => {
  for (const [prompt, bestOf, n] of [['the cat', 3, 2], ['a bird flew over', 4, 1]] as const) {
    const r = await post(server, '/v1/completions', { model: 'gpt', prompt, max_tokens: 10, use_beam_search: true, best_of: bestOf, n, temperature: 0 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const choices = r.body.choices as { text: string; index: number; finish_reason: string }[];
    assert.deepEqual(choices.map((c) => c.text), libraryBeams(prompt, bestOf, n, 10));
    assert.deepEqual(choices.map((c) => c.index), [...Array(n).keys()]);
    for (const c of choices) assert.ok(['stop', 'length'].includes(c.finish_reason));
    const usage = r.body.usage as { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    assert.equal(usage.prompt_tokens, t.tokenizer.encode(prompt).length);
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  }
  // best_of defaults to n.
  const d = await post(server, '/v1/completions', { model: 'gpt', prompt: 'the cat', max_tokens: 6, use_beam_search: true, n: 2 });
  assert.deepEqual((d.body.choices as { text: string }[]).map((c) => c.text), libraryBeams('the cat', 2, 2, 6));
});

test('beam search options that do not fit are 400s naming the field', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ n: 2 }, 'n'],
    [{ best_of: 3 }, 'best_of'],
    [{ use_beam_search: true, n: 3, best_of: 2 }, 'best_of'],
    [{ use_beam_search: true, stream: true }, 'stream'],
    [{ use_beam_search: true, temperature: 0.7 }, 'temperature'],
    [{ use_beam_search: true, stop: ['.'] }, 'stop'],
    [{ use_beam_search: true, best_of: 99 }, 'best_of'],
    [{ length_penalty: 1 }, 'length_penalty'],
  ];
  for (const [extra, param] of cases) {
    const r = await post(server, '/v1/completions', { model: 'gpt', prompt: 'the', max_tokens: 4, ...extra });
    assert.equal(r.status, 400, JSON.stringify(extra));
    const e = r.body.error as { param: string; message: string };
    assert.equal(e.param, param, JSON.stringify(extra));
    assert.match(e.message, new RegExp(`^${param} is `));
  }
});

test('concurrent /v1/attention requests share one forward pass, each answer that of its text alone', async () => {
  const metric = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const get = (s: string) => Number(new RegExp(`^qkv_batch_size_${s}\\{model="gpt",kind="oneshot"\\} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
    return { sum: get('sum'), count: get('count') };
  };
  const before = await metric();
  // A beam search keeps the thread busy while the three arrive, so they wait in its queue together.
  const busy = post(server, '/v1/completions', { model: 'gpt', prompt: 'the', max_tokens: 60, use_beam_search: true, best_of: 8 });
  await new Promise((r) => setTimeout(r, 20));
  const inputs = ['the cat sat', 'on the mat. the dog', 'a'];
  const answers = await Promise.all(inputs.map((input) => post(server, '/v1/attention', { model: 'gpt', input })));
  assert.equal((await busy).status, 200);
  const after = await metric();
  assert.ok(after.sum - before.sum === 4 && after.count - before.count <= 3, `the attention requests were batched (${JSON.stringify({ before, after })})`);
  inputs.forEach((input, i) => {
    assert.equal(answers[i].status, 200);
    const alone = causalAttentions({ model: t.gptModel, tokenizer: t.tokenizer, targetTokenizer: t.tokenizer }, t.tokenizer.encode(input));
    assert.deepEqual(answers[i].body.tokens, alone.tokens);
    const got = answers[i].body.self_attentions as { shape: number[]; data: number[] }[];
    assert.equal(got.length, alone.selfAttentions.length);
    got.forEach((m, l) => {
      const want = alone.selfAttentions[l];
      assert.deepEqual(m.shape, want.shape);
      for (let k = 0; k < want.data.length; k++) assert.ok(Math.abs(m.data[k] - want.data[k]) <= 2e-6, `${input}: layer ${l}, weight ${k}: ${m.data[k]} vs ${want.data[k]}`);
    });
  });
});

test('a one-shot request past the time limit is a 504, and its model thread stops it and is free again', async () => {
  const m = hasty.models.get('slow')!;
  const r = await post(hasty, '/v1/completions', { model: 'slow', prompt: 'the', max_tokens: 1000, use_beam_search: true, best_of: 16 });
  assert.equal(r.status, 504);
  assert.match((r.body.error as { message: string }).message, /longer than the server's limit of 0.3 s/);
  // The thread says it stopped the search (not that it ran to its end), and holds nothing afterwards.
  for (let i = 0; i < 200 && (m.host.cancelledTasks === 0 || m.tasks.running > 0); i++) await new Promise((res) => setTimeout(res, 25));
  assert.equal(m.host.cancelledTasks, 1, 'the thread stopped the task');
  const stats = await m.host.stats();
  assert.deepEqual({ running: m.tasks.running, pending: m.host.pending, tasks: stats.tasks }, { running: 0, pending: 0, tasks: 0 });
  const text = await (await fetch(`${hasty.url}/metrics`)).text();
  assert.match(text, /^qkv_cancelled_total\{reason="timeout"\} 1$/m);
});
