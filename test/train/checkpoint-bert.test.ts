// Checkpoints of the kinds 'bert', 'bert-classifier' and 'gpt-classifier': save → read → build gives the same model and labels; bad configs and weights are named.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refBackend } from '../../src/backend/ref.js';
import { BertForMaskedLM, BertForSequenceClassification } from '../../src/models/bert.js';
import { GPTForSequenceClassification } from '../../src/models/gpt.js';
import type { Module } from '../../src/nn/module.js';
import { noGrad, tensor } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/index.js';
import { serializeSafetensors } from '../../src/io/safetensors.js';
import { CheckpointError, checkpointFiles, readCheckpoint } from '../../src/train/checkpoint.js';
import { modelFromCheckpoint } from '../../src/train/checkpoint-models.js';

const BODY = { vocab: 13, dModel: 8, heads: 2, layers: 2, dFF: 16, dropout: 0, attentionDropout: 0, backend: refBackend, seed: 5 };
const ids = tensor([1, 4, 7, 2, 0, 1, 9, 2, 0, 0], { dtype: 'int32', shape: [2, 5], backend: refBackend });

type Files = Map<string, Uint8Array>;
function filesOf(modelKind: string, model: Module & { config: object }): Files {
  const f = checkpointFiles({ modelKind, modelConfig: model.config, model, task: { name: 'test', options: {} } });
  return new Map(Object.entries(f).map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v]));
}
const build = (files: Files) => modelFromCheckpoint(readCheckpoint(files, { source: 'runs/x' }), { backend: refBackend });
const logitsOf = (m: Module, x: Tensor) => noGrad(() => (m as unknown as { forward(x: Tensor): { logits: Tensor } }).forward(x).logits.toArray());

/** The files with config.json's model section edited. */
function editConfig(files: Files, edit: (model: Record<string, unknown>) => void): Files {
  const c = JSON.parse(new TextDecoder().decode(files.get('config.json')!)) as { model: Record<string, unknown> };
  edit(c.model);
  return new Map([...files, ['config.json', new TextEncoder().encode(JSON.stringify(c))]]);
}

test('bert, bert-classifier and gpt-classifier checkpoints round-trip: same logits, labels kept in order', () => {
  const mlm = new BertForMaskedLM({ ...BODY, maxPositions: 8 });
  const clf = new BertForSequenceClassification({ ...BODY, maxPositions: 8, labels: ['spam', 'ham', 'other'] });
  const gpt = new GPTForSequenceClassification({ ...BODY, context: 8, labels: ['neg', 'pos'], padId: 0 });
  for (const [kind, m] of [['bert', mlm], ['bert-classifier', clf], ['gpt-classifier', gpt]] as const) {
    const back = build(filesOf(kind, m));
    assert.equal(back.constructor, m.constructor, kind);
    assert.deepEqual(Array.from(logitsOf(back, ids)), Array.from(logitsOf(m, ids)), kind);
  }
  assert.deepEqual((build(filesOf('bert-classifier', clf)) as BertForSequenceClassification).labels, ['spam', 'ham', 'other']);
  const g = build(filesOf('gpt-classifier', gpt)) as GPTForSequenceClassification;
  assert.deepEqual([g.labels, g.config.padId], [['neg', 'pos'], 0]);
});

test('config and weight problems are named before anything is allocated', () => {
  const clf = new BertForSequenceClassification({ ...BODY, maxPositions: 8, labels: ['a', 'b', 'c'] });
  const files = filesOf('bert-classifier', clf);
  const fails = (f: Files, re: RegExp) => assert.throws(() => build(f), (e: Error) => e instanceof CheckpointError && re.test(e.message), String(re));
  fails(editConfig(files, (m) => { delete m.labels; }), /runs\/x\/config\.json: model\.labels is missing, expected an array of at least 2 label names/);
  fails(editConfig(files, (m) => { m.labels = ['a', 7, 'c']; }), /model\.labels\[1\] is number 7, expected a non-empty label name/);
  fails(editConfig(files, (m) => { m.labels = ['a', 'b']; }), /model\.labels\.length is 2, but runs\/x\/model\.safetensors: tensor "classifier\.weight" has shape \[3, 8\], expected \[2, 8\]/);
  fails(editConfig(files, (m) => { m.labels = ['a', 'b', 'a']; }), /labels\[2\] "a" appears twice/);
  fails(editConfig(files, (m) => { m.maxPositions = 20; }), /model\.maxPositions is 20, but .*position_embeddings\.weight" has shape \[8, 8\]/);
  fails(editConfig(files, (m) => { m.typeVocab = 'two'; }), /model\.typeVocab is the string "two", expected an integer ≥ 1/);
  fails(editConfig(files, (m) => { m.layers = 3; }), /model\.layers is 3, but runs\/x\/model\.safetensors holds 2 \(bert\.encoder\.layers\.0 to bert\.encoder\.layers\.1\)/);
  const noBias = new Map(files);
  const state = new Map([...clf.stateDict()].filter(([k]) => k !== 'classifier.bias'));
  noBias.set('model.safetensors', serializeSafetensors(state, { format: 'pt' }));
  fails(noBias, /classifier\.bias/);
  const gpt = new GPTForSequenceClassification({ ...BODY, context: 8, labels: ['neg', 'pos'], padId: 0 });
  const gf = filesOf('gpt-classifier', gpt);
  fails(editConfig(gf, (m) => { m.padId = -1; }), /model\.padId is number -1, expected an integer ≥ 0/);
  fails(editConfig(gf, (m) => { m.padId = 13; }), /padId is 13, expected an integer from 0 to 12/);
  fails(editConfig(gf, (m) => { m.activation = 'swish'; }), /model\.activation is the string "swish", expected one of "relu", "gelu", "gelu_new"/);
  fails(editConfig(gf, (m) => { m.labels = ['a', 'b', 'c']; }), /model\.labels\.length is 3, but .*"score\.weight" has shape \[2, 8\], expected \[3, 8\]/);
  const unknown = new Map(gf);
  const c = JSON.parse(new TextDecoder().decode(gf.get('config.json')!)) as Record<string, unknown>;
  unknown.set('config.json', new TextEncoder().encode(JSON.stringify({ ...c, modelKind: 'roberta' })));
  fails(unknown, /modelKind is "roberta", which qkv cannot build, expected one of "transformer", "lstm-seq2seq", "gpt", "bert", "bert-classifier", "gpt-classifier"/);
});
