// Decoding traces for viewers: beam search step by step ends on the pipeline's answer, and next-token
// distributions are the ones the decoder chose from (greedy picks their most likely allowed token).

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import {
  CharTokenizer, G2P_RULES, GPT, causalNextTokens, generateText, noGrad, seq2seqNextTokens, traceBeamSearch,
} from '../../src/node/index.js';
import { pipeline } from '../../src/node/pretrained.js';
import type { Seq2SeqPipeline } from '../../src/node/index.js';
import { spell, trainLettersModel } from './letters-model.js';

let g2p: Seq2SeqPipeline;

before(async () => {
  const speller = await trainLettersModel(800);
  g2p = await pipeline('g2p', speller.dir);
});

test('traceBeamSearch: each step keeps at most numBeams hypotheses, best first, and ends on the pipeline\'s answer', async () => {
  for (const word of ['HELLO', 'WORLD', 'HOLD']) {
    const trace = traceBeamSearch(g2p.pretrained, word, G2P_RULES, { numBeams: 3 });
    assert.equal(trace.best!.tokens.join(' '), spell(word), 'the speller spells');
    assert.equal(trace.best!.tokens.join(' '), await g2p(word, { numBeams: 3 }));
    const first = trace.steps[0];
    assert.equal(first.step, 1);
    assert.ok(first.live.length <= 3 && first.live.length > 0);
    for (const h of first.live) {
      assert.equal(h.tokens.length, 1);
      assert.ok(Math.abs(h.score - h.logProb) < 1e-12, 'lp(1) = ((5 + 1) / 6)^α = 1');
    }
    for (const s of trace.steps) {
      for (let i = 1; i < s.live.length; i++) assert.ok(s.live[i - 1].logProb >= s.live[i].logProb, 'live hypotheses best first');
      for (const h of s.live) assert.equal(h.tokens.length, s.step, 'a live hypothesis has one token per step');
    }
    // The word's n letters and </s>: n + 1 steps at least before the best can finish.
    assert.ok(trace.steps.length >= word.length + 1);
    assert.equal(trace.steps.at(-1)!.finished[0].tokens.join(' '), spell(word));
  }
});

test('seq2seqNextTokens: one distribution per chosen token, descending, the greedy answer its argmax', async () => {
  const p = g2p.pretrained;
  const src = p.tokenizer.encode('HELLO');
  const answer = p.targetTokenizer.encode(spell('HELLO'));
  const d = seq2seqNextTokens(p, src, answer, true, { topK: 4 });
  assert.deepEqual(d.map((x) => x.after), ['<s>', 'H', 'E', 'L', 'L', 'O']);
  assert.deepEqual(d.map((x) => x.chosen), ['H', 'E', 'L', 'L', 'O', '</s>']);
  for (const x of d) {
    assert.equal(x.top.length, 4);
    assert.equal(x.top[0].token, x.chosen, 'greedy chose the most likely');
    assert.equal(x.top[0].prob, x.chosenProb);
    for (let i = 1; i < 4; i++) assert.ok(x.top[i - 1].prob >= x.top[i].prob);
    assert.ok(x.top.reduce((a, t) => a + t.prob, 0) <= 1 + 1e-9);
  }
  // Temperature flattens: the chosen token's probability falls as the temperature rises.
  const hot = seq2seqNextTokens(p, src, answer, true, { temperature: 5 });
  assert.ok(hot[0].chosenProb < d[0].chosenProb);
});

test('causalNextTokens: greedy generation chose the most likely token that is not pad, <s> or <unk>', () => {
  const tok = CharTokenizer.fromChars('abcde '.split(''));
  const model = new GPT({ vocab: tok.vocabSize, dModel: 16, heads: 2, layers: 2, context: 24, dropout: 0, seed: 3 });
  noGrad(() => { for (const w of model.parameters()) if (w.ndim === 2) w.assign(w.mul(8)); });
  const t = { model, tokenizer: tok, targetTokenizer: tok };
  const a = generateText(t, 'abc', { maxNewTokens: 6 });
  const d = causalNextTokens(t, a.ids, a.promptLength, { topK: tok.vocabSize });
  assert.equal(d.length, a.ids.length - a.promptLength);
  assert.equal(d[0].after, 'c');
  const forbidden = new Set([tok.padId, tok.bosId, tok.unkId]);
  for (const x of d) {
    const sum = x.top.reduce((s, y) => s + y.prob, 0);
    assert.ok(Math.abs(sum - 1) < 1e-9, `every token listed: probabilities sum to ${sum}`);
    assert.equal(x.top.find((y) => !forbidden.has(y.id))!.token, x.chosen);
  }
});
