// pipeline('text-generation') over a decoder-only checkpoint: greedy and seeded sampling agree with generate()
// called directly, streams join to the answer, text pieces never split a character, attention rows are
// causal softmaxes over the prompt and the new tokens, and wrong uses fail clearly.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import {
  BYTE_TO_CHAR, ByteLevelBPE, GPT, Rng, TextStream, continueText, generate, noGrad, saveCheckpoint,
} from '../../src/node/index.js';
import type { AttentionMap, Tokenizer } from '../../src/node/index.js';
import { loadPretrained, pipeline } from '../../src/node/pretrained.js';

const scratch = mkdtempSync(join(tmpdir(), 'qkv-textgen-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

const CORPUS = ['the cat sat on the mat. the dog sat on the log. a café in zürich serves crème brûlée.'.repeat(4)];
const CONTEXT = 24;
let tok: Tokenizer;
let dir: string;

before(async () => {
  tok = ByteLevelBPE.train(CORPUS, { vocabSize: 300 });
  const model = new GPT({ vocab: tok.vocabSize, dModel: 16, heads: 2, layers: 2, context: CONTEXT, dropout: 0, seed: 5 });
  // Larger weights than GPT-2's init, so the next-token distributions are far from uniform.
  noGrad(() => { for (const p of model.parameters()) if (p.ndim === 2) p.assign(p.mul(8)); });
  dir = join(scratch, 'gpt');
  await saveCheckpoint(dir, { modelKind: 'gpt', modelConfig: model.config, model, tokenizer: tok, task: { name: 'poems', options: {} } });
});

/** What the pipeline documents it does, with generate() itself: </s> ends the text; pad, <s> and <unk> are never chosen. */
function direct(model: GPT, prompt: string, o: { maxNewTokens: number; sample?: { seed: number; temperature: number; topK?: number; topP?: number } }): string {
  const ids = tok.encode(prompt);
  const [out] = generate(model, [ids], {
    maxNewTokens: o.maxNewTokens, eos: tok.eosId, forbid: [tok.padId, tok.bosId, tok.unkId],
    ...(o.sample ? { sample: true, rng: new Rng(o.sample.seed), temperature: o.sample.temperature, topK: o.sample.topK, topP: o.sample.topP } : {}),
  });
  return tok.decode(out, { skipSpecial: true });
}

test('greedy (the default) and seeded sampling give what generate() gives when called directly', async () => {
  const gen = await pipeline('text-generation', dir);
  const model = gen.pretrained.model;
  for (const prompt of ['the cat', 'a café']) {
    const greedy = direct(model, prompt, { maxNewTokens: 12 });
    assert.ok(greedy.length > 0, 'the model says something');
    assert.equal(await gen(prompt, { maxNewTokens: 12 }), prompt + greedy); // returnFullText: true, as HF
    assert.equal(await gen(prompt, { maxNewTokens: 12, returnFullText: false }), greedy);
    // temperature alone does not sample (HF's rule: doSample decides).
    assert.equal(await gen(prompt, { maxNewTokens: 12, temperature: 0.5, returnFullText: false }), greedy);
    for (const seed of [1, 2]) {
      const sample = { seed, temperature: 0.9, topK: 40, topP: 0.95 };
      assert.equal(await gen(prompt, { maxNewTokens: 12, doSample: true, seed, temperature: 0.9, topK: 40, topP: 0.95, returnFullText: false }), direct(model, prompt, { maxNewTokens: 12, sample }));
    }
  }
  const sampled = await Promise.all([1, 2, 3, 4].map((seed) => gen('the cat', { maxNewTokens: 12, doSample: true, seed, returnFullText: false })));
  assert.ok(new Set(sampled).size > 1, `seeds give different texts: ${JSON.stringify(sampled)}`);
  assert.deepEqual(await gen(['the cat', 'a café'], { maxNewTokens: 6 }), [await gen('the cat', { maxNewTokens: 6 }), await gen('a café', { maxNewTokens: 6 })]);
});

test('streaming: the pieces join to the call\'s text (the prompt first, unless returnFullText is false)', async () => {
  const gen = await pipeline('generate', dir); // the alias
  for (const returnFullText of [true, false]) {
    for (const o of [{ maxNewTokens: 15 }, { maxNewTokens: 15, doSample: true, seed: 7 }]) {
      const pieces: string[] = [];
      for await (const piece of gen.stream('the dog', { ...o, returnFullText })) pieces.push(piece);
      assert.equal(pieces.join(''), await gen('the dog', { ...o, returnFullText }));
      if (returnFullText) assert.equal(pieces[0], 'the dog');
      assert.ok(pieces.length > 2, `streamed in pieces: ${JSON.stringify(pieces)}`);
    }
  }
});

test('text pieces wait for whole characters: bytes of é and ✓ pushed one at a time', () => {
  const bytes = [...new TextEncoder().encode('aé✓')]; // 61 | c3 a9 | e2 9c 93
  const ids = bytes.map((b) => tok.tokenToId(BYTE_TO_CHAR[b])!);
  const s = new TextStream(tok);
  assert.deepEqual(ids.map((id) => s.push(id)), ['a', '', 'é', '', '', '✓']);
  assert.equal(s.flush(), '');
  const cut = new TextStream(tok);
  cut.push(ids[0]);
  cut.push(ids[1]); // half of é, and the stream ends
  assert.equal(cut.flush(), '\uFFFD');
  // Bytes that can never form a character are released as U+FFFD once the next byte shows it.
  const junk = new TextStream(tok);
  const lone = tok.tokenToId(BYTE_TO_CHAR[0x80])!;
  assert.deepEqual([lone, lone, ids[0]].map((id) => junk.push(id)), ['', '\uFFFD', '\uFFFDa']);
});

function assertCausalSoftmax(m: AttentionMap): void {
  const [B, H, T, S] = m.shape;
  for (let r = 0; r < B * H * T; r++) {
    const t = r % T;
    let sum = 0;
    for (let s = 0; s < S; s++) {
      const w = m.data[r * S + s];
      if (s > t) assert.equal(w, 0, `row ${r}: key ${s} after query ${t}`);
      sum += w;
    }
    assert.ok(Math.abs(sum - 1) < 1e-5, `row ${r} sums to ${sum}`);
  }
}

test('outputAttentions: one [1, H, T, T] map per block over the prompt and new tokens, rows causal and summing to 1', async () => {
  const gen = await pipeline('text-generation', dir);
  const { layers, heads } = gen.pretrained.model.config;
  const prompt = 'the cat sat';
  const out = await gen(prompt, { maxNewTokens: 8, outputAttentions: true });
  assert.equal(out.text, await gen(prompt, { maxNewTokens: 8 }));
  const a = out.attentions;
  assert.ok(a.tokens.length > tok.encode(prompt).length, 'the prompt and at least one new token');
  assert.deepEqual(a.tokens.slice(0, tok.encode(prompt).length), tok.encode(prompt).map((id) => tok.decode([id])));
  assert.equal(a.selfAttentions.length, layers);
  for (const m of a.selfAttentions) {
    assert.deepEqual(m.shape, [1, heads, a.tokens.length, a.tokens.length]);
    assertCausalSoftmax(m);
  }
  // A prompt longer than the context is cut from the front: prompt and new tokens fit the context.
  const long = await gen('the cat sat on the mat. '.repeat(6), { maxNewTokens: 4, outputAttentions: true });
  assert.ok(long.attentions.tokens.length <= CONTEXT, `${long.attentions.tokens.length} tokens`);
  for (const m of long.attentions.selfAttentions) assertCausalSoftmax(m);
});

test('maxNewTokens is capped at the context less one; continueText keeps its old sampling default and options', async () => {
  const gen = await pipeline('text-generation', dir);
  const p = await loadPretrained(dir);
  if (p.kind !== 'gpt') throw new Error(`kind ${p.kind}`);
  assert.equal(p.task, 'poems');
  const all = await gen('the', { maxNewTokens: 1000, returnFullText: false, outputAttentions: true });
  assert.ok(all.attentions.tokens.length <= CONTEXT);
  // temperature 0: greedy, the old way of asking; `tokens` is the old name of maxNewTokens.
  assert.equal(continueText(p, 'the cat', { tokens: 9, temperature: 0 }), await gen('the cat', { maxNewTokens: 9, returnFullText: false }));
  const streamed: string[] = [];
  const text = continueText(p, 'the cat', { maxNewTokens: 9, seed: 3, onText: (s) => streamed.push(s) });
  assert.equal(streamed.join(''), text);
  assert.equal(text, await gen('the cat', { maxNewTokens: 9, doSample: true, seed: 3, returnFullText: false }));
});

test('errors: a decoder-only checkpoint for an encoder-decoder task, unknown options, bad values', async () => {
  await assert.rejects(pipeline('g2p', dir), /pipeline\('g2p'\): .*gpt holds a 'gpt' model \(task 'poems'\), expected an encoder-decoder 'transformer' checkpoint; pipeline\('text-generation'\) takes this one/);
  await assert.rejects(pipeline('text2text-generation', dir), /expected an encoder-decoder 'transformer' checkpoint/);
  const gen = await pipeline('text-generation', dir);
  await assert.rejects(gen('the', { max_new_tokens: 3 } as never), /pipeline\('text-generation'\): unknown option 'max_new_tokens', expected one of maxNewTokens, doSample/);
  await assert.rejects(gen('the', { numBeams: 2 } as never), /unknown option 'numBeams'/);
  await assert.rejects(gen('the', { maxNewTokens: 0 }), /maxNewTokens is 0, expected an integer ≥ 1/);
  await assert.rejects(gen('the', { doSample: true, temperature: -1 }), /temperature is -1, expected a finite number ≥ 0/);
  await assert.rejects(pipeline('text-generation', dir, { topK: 0, doSample: true }).then((g) => g('the')), /topK: k must be a positive integer, got 0/);
});
