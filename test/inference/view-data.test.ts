// attentionView and its JSON: the answer is the pipeline's, every layer's and head's maps are there with their
// scores, the JSON round trip is exact, an embedded view cannot close its script element, and bad JSON is refused.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import {
  ByteLevelBPE, FormatError, GPT, VIEW_DATA_MARKER, attentionView, attentionViewFromJSON, attentionViewToJSON, embedAttentionView, noGrad,
} from '../../src/node/index.js';
import type { AttentionView, PretrainedCausal, Seq2SeqPipeline } from '../../src/node/index.js';
import { pipeline } from '../../src/node/pretrained.js';
import type { Transformer } from '../../src/models/transformer.js';
import { spell, trainLettersModel } from './letters-model.js';

let g2p: Seq2SeqPipeline;

before(async () => {
  g2p = await pipeline('g2p', (await trainLettersModel(800)).dir);
});

test('attentionView of an encoder-decoder: the pipeline\'s answer, three kinds of maps per layer, beams ending on the answer', async () => {
  const p = g2p.pretrained;
  const { heads: H, encoderLayers, decoderLayers, dModel } = (p.model as Transformer).config;
  const v = await attentionView(p, 'hello', { numBeams: 3 });
  assert.equal(v.output, spell('HELLO'));
  assert.equal(v.output, await g2p('hello', { numBeams: 3 }));
  assert.deepEqual(v.model, { heads: H, dModel, dK: dModel / H, encoderLayers, decoderLayers, layers: encoderLayers + decoderLayers });
  assert.deepEqual(v.groups.map((g) => [g.kind, g.layers.length]), [['encoder', encoderLayers], ['decoder', decoderLayers], ['cross', decoderLayers]]);
  const cross = v.groups[2];
  assert.deepEqual(cross.keys, ['H', 'E', 'L', 'L', 'O']);
  assert.deepEqual(cross.queries, ['<s>', 'H', 'E', 'L', 'L', 'O']);
  for (const g of v.groups) for (const m of g.layers) assert.deepEqual(m.shape, [1, H, g.queries.length, g.keys.length]);
  assert.equal(v.beams!.best!.tokens.join(' '), v.output);
  assert.equal(v.options.numBeams, 3);
  assert.deepEqual(v.nextTokens.map((d) => d.chosen), ['H', 'E', 'L', 'L', 'O', '</s>']);
  // The checkpoint's recorded beam (2) when none is asked for; greedy has no beam trace.
  assert.equal((await attentionView(p, 'HELLO')).options.numBeams, 2);
  assert.equal((await attentionView(p, 'HELLO', { numBeams: 1 })).beams, null);
});

test('attentionView of a decoder-only model: one causal map per block over the prompt and the new tokens', async () => {
  const tok = ByteLevelBPE.train(['the cat sat on the mat. '.repeat(8)], { vocabSize: 280 });
  const model = new GPT({ vocab: tok.vocabSize, dModel: 16, heads: 2, layers: 3, context: 32, dropout: 0, seed: 5 });
  noGrad(() => { for (const w of model.parameters()) if (w.ndim === 2) w.assign(w.mul(8)); });
  const p: PretrainedCausal = { kind: 'gpt', model, tokenizer: tok, targetTokenizer: tok, task: 'lm', source: 'test', config: { format: 'qkv-checkpoint', qkvVersion: '0', modelKind: 'gpt', model: {}, task: null } };
  const v = await attentionView(p, 'the cat', { maxNewTokens: 5 });
  assert.equal(v.modelKind, 'gpt');
  assert.deepEqual(v.groups.map((g) => g.kind), ['self']);
  assert.equal(v.groups[0].layers.length, 3);
  const T = v.groups[0].queries.length;
  assert.equal(T, tok.encode('the cat').length + v.nextTokens.length);
  for (const m of v.groups[0].layers) {
    for (let h = 0; h < 2; h++) for (let t = 0; t < T; t++) for (let s = t + 1; s < T; s++) assert.equal(m.scores![(h * T + t) * T + s], -Infinity, 'causal');
  }
});

test('the JSON round trip is exact (−Infinity scores too); embedded, a view cannot close its script element', async () => {
  const v = await attentionView(g2p.pretrained, 'WORLD', { numBeams: 2 });
  const back = attentionViewFromJSON(attentionViewToJSON(v));
  assert.deepEqual(back, v);
  const hostile: AttentionView = { ...v, input: '</script><script>alert(1)</script>' };
  const html = embedAttentionView(`<html><body>${VIEW_DATA_MARKER}<script>/*viewer*/</script></body></html>`, hostile);
  assert.equal(html.split('</script>').length - 1, 2, 'only the data element\'s and the viewer\'s own closing tags');
  const json = /<script type="application\/json" id="qkv-view-data">(.*?)<\/script>/s.exec(html)![1];
  assert.equal(attentionViewFromJSON(json).input, hostile.input);
  assert.throws(() => embedAttentionView('<html></html>', v), /holds no <!--qkv-view-data-->/);
});

test('attentionViewFromJSON refuses what is not a view, naming the field and what was expected', async () => {
  const v = JSON.parse(attentionViewToJSON(await attentionView(g2p.pretrained, 'OW', { numBeams: 1 })));
  assert.throws(() => attentionViewFromJSON('{'), (e: Error) => e instanceof FormatError && /view: not JSON/.test(e.message));
  assert.throws(() => attentionViewFromJSON(JSON.stringify({ ...v, format: 'x' })), /view\.format: "x", expected "qkv-attention-view-1"/);
  const badShape = structuredClone(v);
  badShape.groups[2].layers[0].shape = [1, 4, 9, 9];
  assert.throws(() => attentionViewFromJSON(JSON.stringify(badShape)), /view\.groups\[2\]\.layers\[0\]\.shape: \[1,4,9,9\], expected \[1, 4, 3, 2\]/);
  const short = structuredClone(v);
  short.groups[0].layers[0].data = short.groups[0].layers[0].data.slice(0, 16);
  assert.throws(() => attentionViewFromJSON(JSON.stringify(short)), /view\.groups\[0\]\.layers\[0\]\.data: \d+ floats, expected 16/);
});
