// Continuous batching (BatchDecoder): sequences that join at different steps, with prompts of different lengths,
// get exactly the tokens generate() gives each of them alone, greedy and seeded sampling, batched or not, on ref
// and on native (whose batched step, Backend.decodeStackRows, runs rows at their own positions).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend } from '../../src/backend/backend.js';
import { createNativeBackend } from '../../src/backend/native.js';
import { refBackend } from '../../src/backend/ref.js';
import { ArgumentError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { BatchDecoder } from '../../src/generate/batch.js';
import { generate } from '../../src/generate/causal.js';
import { GPT } from '../../src/models/gpt.js';
import { loadNativeBackend } from '../../src/node/backend-select.js';
import { noGrad, randn } from '../../src/tensor/index.js';
import { idsTensor } from '../../src/generate/rows.js';

const loaded = loadNativeBackend();
const VOCAB = 23;
const EOS = 2;

/** A random GPT with weights large enough that next-token distributions are far from uniform. */
function model(backend: Backend, seed: number): GPT {
  const gpt = new GPT({ vocab: VOCAB, dModel: 32, heads: 4, layers: 2, dFF: 48, context: 40, dropout: 0, seed, backend });
  const rng = new Rng(seed + 100);
  noGrad(() => { for (const p of gpt.parameters()) if (p.ndim === 2) p.assign(randn(p.shape, rng, { backend, std: 0.35 })); });
  return gpt.eval();
}

interface Request { prompt: number[]; maxNewTokens: number; joinAt: number; seed?: number }

function requests(rng: Rng, n: number): Request[] {
  return Array.from({ length: n }, (_, i) => ({
    prompt: Array.from({ length: 1 + rng.int(7) }, () => 3 + rng.int(VOCAB - 3)),
    maxNewTokens: 1 + rng.int(14),
    joinAt: rng.int(10),
    seed: i % 2 === 0 ? undefined : 1000 + i,
  }));
}

const optionsOf = (r: Request) => (r.seed === undefined
  ? { maxNewTokens: r.maxNewTokens, eos: EOS }
  : { maxNewTokens: r.maxNewTokens, eos: EOS, sample: true, rng: new Rng(r.seed), temperature: 0.9, topK: 12 });

/** Runs the requests through one decoder, each joining at its step (when a row is free); tokens per request. */
function runBatched(gpt: GPT, reqs: readonly Request[], slots: number, batched: boolean): { out: number[][]; widest: number } {
  const dec = new BatchDecoder(gpt, { slots, batched });
  const out: number[][] = reqs.map(() => []);
  const bySeq = new Map<number, number>();
  const waiting = reqs.map((_, i) => i);
  let widest = 0;
  const record = (i: number, e: { id: number | null }) => { if (e.id !== null) out[i].push(e.id); };
  for (let step = 0; waiting.length > 0 || dec.active > 0; step++) {
    while (waiting.length > 0 && reqs[waiting[0]].joinAt <= step && dec.active < slots) {
      const i = waiting.shift()!;
      const e = dec.join(reqs[i].prompt, optionsOf(reqs[i]));
      record(i, e);
      if (!e.finish) bySeq.set(e.seq, i);
    }
    widest = Math.max(widest, dec.active);
    for (const e of dec.step()) record(bySeq.get(e.seq)!, e);
  }
  return { out, widest };
}

const backends: [string, () => Backend][] = [['ref', () => refBackend]];
if (loaded) backends.push(['native', () => createNativeBackend(loaded.addon)]);

for (const [name, make] of backends) {
  test(`batched decoding gives each sequence generate()'s tokens, greedy and sampled (${name})`, () => {
    const backend = make();
    let rowsCalls = 0;
    const kernel = backend.decodeStackRows;
    if (kernel) backend.decodeStackRows = (...a) => { rowsCalls++; return kernel.apply(backend, a); };
    const gpt = model(backend, 3);
    const reqs = requests(new Rng(11), 14);
    const alone = reqs.map((r) => generate(gpt, [r.prompt], optionsOf(r))[0]);
    assert.ok(alone.some((t) => t.length >= 5), 'some sequences are long enough to overlap');
    for (const [slots, batched] of [[4, true], [16, true], [4, false]] as const) {
      const { out, widest } = runBatched(gpt, reqs, slots, batched);
      assert.deepEqual(out, alone, `slots ${slots}, batched ${batched}`);
      assert.ok(widest >= 3, `several sequences were live at once (${widest})`);
    }
    if (name === 'native') assert.ok(rowsCalls > 10, `steps went through decodeStackRows (${rowsCalls} calls)`);
  });
}

test('a sequence that leaves frees its row, and the others go on unchanged', () => {
  const gpt = model(loaded ?? refBackend, 5);
  const prompts = [[5, 6, 7], [8], [9, 10, 11, 12, 13], [14, 15]];
  const alone = prompts.map((p) => generate(gpt, [p], { maxNewTokens: 12 })[0]);
  const dec = new BatchDecoder(gpt, { slots: 3 });
  const seqs = prompts.slice(0, 3).map((p) => dec.join(p, { maxNewTokens: 12 }).seq);
  const got = new Map<number, number[]>(seqs.map((s, i) => [s, [alone[i][0]]]));
  for (const e of dec.step()) got.get(e.seq)!.push(e.id!);
  assert.throws(() => dec.join(prompts[3], { maxNewTokens: 12 }), ArgumentError, 'a full decoder refuses a fourth sequence');
  assert.equal(dec.leave(seqs[0]), true);
  assert.equal(dec.leave(seqs[0]), false);
  assert.equal(dec.active, 2);
  const fourth = dec.join(prompts[3], { maxNewTokens: 12 });
  got.set(fourth.seq, [fourth.id!]);
  while (dec.active > 0) for (const e of dec.step()) got.get(e.seq)!.push(e.id!);
  assert.deepEqual(got.get(seqs[1]), alone[1]);
  assert.deepEqual(got.get(seqs[2]), alone[2]);
  assert.deepEqual(got.get(fourth.seq), alone[3]);
});

test('a prompt that cannot fit a row is refused before anything runs', () => {
  const dec = new BatchDecoder(model(refBackend, 1), { slots: 2, maxLen: 10 });
  assert.throws(() => dec.join([3, 4, 5, 6, 7, 8], { maxNewTokens: 6 }), /need 11 positions, a row holds 10/);
  assert.throws(() => dec.join([], { maxNewTokens: 2 }), /prompt is empty/);
  assert.equal(dec.active, 0);
});

test('native decodeStackRows: all rows at one position give decodeStack\'s logits bit for bit; bad positions throw before anything is written', { skip: loaded ? false : 'the native addon did not load' }, () => {
  const backend = createNativeBackend(loaded!.addon);
  const gpt = model(backend, 7);
  const prompt = [5, 9, 4];
  const slots = gpt.createSlotCache(3, 16);
  const plain = gpt.createCache(16);
  noGrad(() => {
    // The prompt one token at a time on both (decodeStack and decodeStackRows steps), so the caches agree bit for bit.
    for (const id of prompt) {
      const col = idsTensor([[id], [id], [id]], backend);
      assert.deepEqual(Array.from(gpt.decodeRows(col, slots)!.toArray()), Array.from(gpt.forward(col, { cache: plain }).logits.toArray()));
    }
    const next = idsTensor([[6], [7], [8]], backend);
    const a = gpt.forward(next, { cache: plain }).logits.toArray();
    const b = gpt.decodeRows(next, slots)!.toArray();
    assert.deepEqual(Array.from(b), Array.from(a));
    assert.deepEqual([0, 1, 2].map((r) => slots.length(r)), [4, 4, 4]);
    const w = (gpt as unknown as { decodeWeights(): never }).decodeWeights();
    const spec = { heads: 4, normFirst: true, activation: 'gelu' as const, eps: 1e-5 };
    const views = slots.views(3);
    const ids3 = idsTensor([[1], [2], [3]], backend).reshape([3]);
    assert.throws(() => backend.decodeStackRows!(ids3, w, views, Int32Array.of(1, 2), spec), /positions must be an Int32Array of 3/);
    assert.throws(() => backend.decodeStackRows!(ids3, w, views, Int32Array.of(1, -1, 2), spec), ArgumentError);
    assert.throws(() => backend.decodeStackRows!(ids3, w, views, Int32Array.of(1, 16, 2), spec), /at position 16 do not fit/);
    assert.deepEqual([0, 1, 2].map((r) => slots.length(r)), [4, 4, 4], 'nothing advanced');
  });
});
