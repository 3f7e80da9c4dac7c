// `model.architecture: 'lstm'` in an encoder-decoder config: the LSTM baseline is built, trained, saved and loaded back.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError } from '../../src/core/errors.js';
import { LSTMSeq2Seq } from '../../src/models/lstm-seq2seq.js';
import { Transformer } from '../../src/models/transformer.js';
import { greedyDecode } from '../../src/generate/index.js';
import { pipelineFor } from '../../src/inference/pipeline.js';
import { loadPretrained } from '../../src/inference/pretrained.js';
import { noGrad, tensor } from '../../src/tensor/index.js';
import { CharTokenizer } from '../../src/tokenizers/char.js';
import { SymbolTokenizer } from '../../src/tokenizers/symbol.js';
import { checkpointFiles, readCheckpoint } from '../../src/train/checkpoint.js';
import { modelFromCheckpoint } from '../../src/train/checkpoint-models.js';
import { g2pConfig, g2pModel, g2pTask, seq2seqConfig, translateConfig } from '../../src/train/tasks/index.js';
import { encoderDecoderFor } from '../../src/train/tasks/reuse.js';
import { skipCmudict } from '../data/available.js';

test("architecture 'lstm' builds the LSTM with dModel cells and the config's layers; 'transformer' (or none) the Transformer", () => {
  const c = g2pConfig('tiny', { model: { architecture: 'lstm', encoderLayers: 2 } });
  const m = g2pModel(c, 30, 40);
  assert.ok(m instanceof LSTMSeq2Seq);
  assert.equal(m.config.hidden, c.model.dModel);
  assert.equal(m.config.encoderLayers, 2);
  assert.equal(m.config.decoderLayers, c.model.decoderLayers);
  assert.equal(m.config.dropout, c.model.dropout);
  assert.ok(g2pModel(g2pConfig('tiny'), 30, 40) instanceof Transformer);
  const bi = g2pModel(g2pConfig('tiny', { model: { architecture: 'bilstm' } }), 30, 40) as LSTMSeq2Seq;
  assert.equal(bi.config.bidirectional, true);
  assert.deepEqual([...bi.encoder.weightHh[1].shape], [4 * (c.model.dModel / 2), c.model.dModel / 2], 'each direction has dModel / 2 cells');
  const { architecture: _, ...old } = g2pConfig('tiny').model; // a config written before the field existed
  assert.equal(encoderDecoderFor(undefined, old, { srcVocab: 30, tgtVocab: 40, seed: 1 }).modelKind, 'transformer');
  for (const c2 of [translateConfig('tiny', { model: { architecture: 'lstm' } }), seq2seqConfig('tiny', { train: 'x.tsv', model: { architecture: 'lstm' } })]) {
    assert.equal(c2.model.architecture, 'lstm');
  }
  assert.throws(() => g2pConfig('tiny', { model: { architecture: 'rnn' } }), (e: Error) => e instanceof ArgumentError && /model\.architecture' is "rnn", expected one of 'transformer', 'lstm', 'bilstm'/.test(e.message));
});

test('an lstm-seq2seq checkpoint loads back into the same model (same logits), answers through a pipeline, and a wrong layer count is refused', async () => {
  const src = CharTokenizer.fromCorpus(['CAT', 'DOG']);
  const tgt = SymbolTokenizer.fromCorpus(['K AE1 T', 'D AO1 G']);
  const model = new LSTMSeq2Seq({ srcVocab: src.vocabSize, tgtVocab: tgt.vocabSize, hidden: 8, encoderLayers: 2, decoderLayers: 1, seed: 4 });
  const files = checkpointFiles({ modelKind: 'lstm-seq2seq', modelConfig: model.config, model, tokenizer: src, targetTokenizer: tgt, task: { name: 'g2p', options: {} } });
  const bytes = (f: Record<string, string | Uint8Array>) => new Map(Object.entries(f).map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v]));
  const back = modelFromCheckpoint(readCheckpoint(bytes(files), { source: 'runs/lstm/best' }));
  assert.ok(back instanceof LSTMSeq2Seq);
  const s = tensor([src.encode('CAT')], { dtype: 'int32' });
  const t = tensor([[tgt.bosId, ...tgt.encode('K AE1')]], { dtype: 'int32' });
  const a = noGrad(() => model.eval().forward(s, t).logits.toArray());
  const b = noGrad(() => back.eval().forward(s, t).logits.toArray());
  assert.deepEqual(Array.from(b), Array.from(a));


  // Answering: loadPretrained gives kind 'lstm-seq2seq', and the text2text pipeline decodes as greedyDecode does.
  const p = await loadPretrained(bytes(files), { source: 'runs/lstm/best' });
  assert.equal(p.kind, 'lstm-seq2seq');
  const t2t = pipelineFor('text2text-generation', p);
  const want = greedyDecode(back, s, { bos: tgt.bosId, eos: tgt.eosId, maxLen: 2 * 3 + 10 })[0];
  assert.equal(await t2t('CAT', { numBeams: 1 }), tgt.decode(want, { skipSpecial: true }));
  const withMaps = await t2t('CAT', { numBeams: 1, outputAttentions: true });
  assert.deepEqual(withMaps.attentions.encoderSelfAttentions, []);
  const [cross, ...more] = withMaps.attentions.crossAttentions;
  assert.equal(more.length, 0, 'one map');
  assert.deepEqual([cross.shape[0], cross.shape[1], cross.shape[3]], [1, 1, 3], 'one head: [1, 1, T, S] over the 3 letters');

  const config = JSON.parse(files['config.json'] as string);
  config.model.encoderLayers = 3;
  const bad = bytes({ ...files, 'config.json': JSON.stringify(config) });
  assert.throws(() => modelFromCheckpoint(readCheckpoint(bad, { source: 'runs/lstm/best' })), /model\.encoderLayers is 3, but runs\/lstm\/best\/model\.safetensors holds 2/);
});

test("g2p with architecture 'lstm': the run's model is the LSTM, and one training step lowers nothing to NaN", { skip: skipCmudict }, async () => {
  const run = await g2pTask(g2pConfig('tiny', { model: { architecture: 'lstm' }, maxTrainExamples: 50 }));
  assert.equal(run.modelKind, 'lstm-seq2seq');
  assert.ok(run.model instanceof LSTMSeq2Seq);
  const batch = run.task.batches(0, new (await import('../../src/core/rng.js')).Rng(1))[Symbol.iterator]().next().value!;
  const { loss } = run.task.loss(run.model, batch);
  loss.backward();
  assert.ok(Number.isFinite(loss.item()) && loss.item() > 0, `loss ${loss.item()}`);
  assert.ok(run.model.parameters().every((p) => p.grad !== null), 'every parameter gets a gradient');
});
