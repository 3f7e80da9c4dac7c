// Loading without the random initialisation (modelFromCheckpoint's `init: false`): bit-identical to build-then-load.
// The model it answers equals, bit for bit, one built the old way (with its random draws) and then loaded; a tensor
// the file lacks is still an error, never a weight left at zero.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend } from '../../src/backend/backend.js';
import { createNativeBackend } from '../../src/backend/native.js';
import { refBackend } from '../../src/backend/ref.js';
import { hfFolderFiles, readHFCheckpoint } from '../../src/inference/hf-folder.js';
import { parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { BertForMaskedLM, BertForSequenceClassification } from '../../src/models/bert.js';
import { GPT } from '../../src/models/gpt.js';
import { GPTForSequenceClassification } from '../../src/models/gpt.js';
import { Transformer } from '../../src/models/transformer.js';
import type { Module } from '../../src/nn/module.js';
import { loadNativeBackend } from '../../src/node/backend-select.js';
import { noGrad, tensor } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/index.js';
import { CheckpointError, checkpointFiles, readCheckpoint } from '../../src/train/checkpoint.js';
import type { CheckpointData } from '../../src/train/checkpoint.js';
import { modelFromCheckpoint } from '../../src/train/checkpoint-models.js';

const loaded = loadNativeBackend();
const BACKENDS: [string, Backend][] = [['ref', refBackend], ...(loaded ? [['native', createNativeBackend(loaded.addon)] as [string, Backend]] : [])];
const BODY = { dModel: 8, heads: 2, dFF: 16, dropout: 0.1, attentionDropout: 0, seed: 7 };

type Files = Map<string, Uint8Array>;
const bytesOf = (f: Record<string, Uint8Array | string>): Files => new Map(Object.entries(f).map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v]));
const filesOf = (modelKind: string, model: Module & { config: object }): Files => bytesOf(checkpointFiles({ modelKind, modelConfig: model.config, model }));

/** Every parameter's values by name, as plain numbers (Object.is-comparable: -0 and NaN bits count). */
const valuesOf = (m: Module): Record<string, number[]> => Object.fromEntries([...m.stateDict()].map(([k, t]) => [k, Array.from(t.toArray())]));

/** One forward pass's first output in eval mode, and one in training mode (dropout drawn from the model's own generators). */
function outputsOf(m: Module, run: (m: Module) => Tensor): number[][] {
  return noGrad(() => [Array.from(run(m.eval()).toArray()), Array.from(run(m.train()).toArray())]);
}

/** The old path, written out here: build with the full random initialisation (the constructor's default), then load. */
function oldPath(ck: CheckpointData, ctor: new (config: never) => Module, backend: Backend): Module {
  const m = new ctor({ ...ck.config.model, backend } as never);
  m.loadStateDict(ck.modelState);
  return m;
}

const ids = (b: Backend) => tensor([1, 4, 7, 2, 0, 3, 9, 2, 5, 6], { dtype: 'int32', shape: [2, 5], backend: b });
const logits = (x: (b: Backend) => Tensor) => (m: Module) => (m as unknown as { forward(x: Tensor): { logits: Tensor } }).forward(x(m.parameters()[0].backend)).logits;

const CASES: [kind: string, ctor: new (config: never) => Module, make: (b: Backend) => Module & { config: object }, run: (m: Module) => Tensor][] = [
  ['gpt', GPT as never, (b) => new GPT({ ...BODY, vocab: 13, layers: 2, context: 8, backend: b }), logits(ids)],
  ['gpt-classifier', GPTForSequenceClassification as never, (b) => new GPTForSequenceClassification({ ...BODY, vocab: 13, layers: 2, context: 8, labels: ['a', 'b', 'c'], padId: 0, backend: b }), logits(ids)],
  ['bert', BertForMaskedLM as never, (b) => new BertForMaskedLM({ ...BODY, vocab: 13, layers: 2, maxPositions: 8, backend: b }), logits(ids)],
  ['bert-classifier', BertForSequenceClassification as never, (b) => new BertForSequenceClassification({ ...BODY, vocab: 13, layers: 2, maxPositions: 8, labels: ['x', 'y'], backend: b }), logits(ids)],
  ['transformer', Transformer as never, (b) => new Transformer({ ...BODY, srcVocab: 11, tgtVocab: 12, encoderLayers: 2, decoderLayers: 2, maxLen: 16, backend: b }),
    (m) => (m as Transformer).forward(tensor([1, 4, 7, 2, 0, 3], { dtype: 'int32', shape: [2, 3], backend: m.parameters()[0].backend }), tensor([1, 5, 2, 3], { dtype: 'int32', shape: [2, 2], backend: m.parameters()[0].backend })).logits],
];

for (const [bname, backend] of BACKENDS) {
  test(`${bname}: modelFromCheckpoint (no random init) equals build-with-init-then-load, bit for bit, for every kind`, () => {
    for (const [kind, ctor, make, run] of CASES) {
      const saved = make(backend);
      const ck = readCheckpoint(filesOf(kind, saved), { source: 'runs/x' });
      const fast = modelFromCheckpoint(ck, { backend });
      const old = oldPath(ck, ctor, backend);
      assert.equal(fast.constructor, ctor, kind);
      assert.deepEqual(valuesOf(fast), valuesOf(saved), `${kind}: weights`);
      assert.deepEqual(valuesOf(fast), valuesOf(old), `${kind}: weights against the old path`);
      // The dropout generators do not depend on the initialisation: training-mode outputs agree too.
      assert.deepEqual(fast.rngStates(), old.rngStates(), `${kind}: generator states`);
      assert.deepEqual(outputsOf(fast, run), outputsOf(old, run), `${kind}: outputs (eval, then training with dropout)`);
    }
  });

  test(`${bname}: a GPT read from a Hugging Face folder (Conv1D weights as transposed views) equals the model saved`, () => {
    for (const [kind, ctor, make, run] of CASES.filter(([k]) => k === 'gpt' || k === 'bert')) {
      const saved = make(backend);
      const hf = readHFCheckpoint(bytesOf(hfFolderFiles(readCheckpoint(filesOf(kind, saved)))), { source: 'exports/x' });
      const fast = modelFromCheckpoint(hf, { backend });
      const old = oldPath(hf, ctor, backend);
      // BERT's HF layout drops the pooler; the reader fills it, so compare everything else with the saved model.
      const own = (v: Record<string, number[]>) => Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('bert.pooler.')));
      assert.deepEqual(own(valuesOf(fast)), own(valuesOf(saved)), `${kind}: weights`);
      assert.deepEqual(valuesOf(fast), valuesOf(old), `${kind}: against the old path`);
      assert.deepEqual(outputsOf(fast, run)[0], outputsOf(saved, run)[0], `${kind}: logits`);
    }
  });
}

test('a tensor missing from model.safetensors is a CheckpointError naming it, for every kind (never a zero weight)', () => {
  const drop: Record<string, string> = {
    gpt: 'layers.1.linear2.bias', 'gpt-classifier': 'transformer.layers.0.self_attn.in_proj_weight', bert: 'bert.pooler.dense.weight',
    'bert-classifier': 'bert.encoder.layers.1.norm2.weight', transformer: 'decoder.layers.0.multihead_attn.out_proj.bias',
  };
  for (const [kind, , make] of CASES) {
    const saved = make(refBackend);
    const files = filesOf(kind, saved);
    const name = drop[kind];
    assert.ok(saved.stateDict().has(name), `${kind} has ${name}`);
    files.set('model.safetensors', serializeSafetensors(new Map([...saved.stateDict()].filter(([k]) => k !== name)), { format: 'pt' }));
    assert.throws(() => modelFromCheckpoint(readCheckpoint(files, { source: 'runs/x' }), { backend: refBackend }),
      (e: Error) => e instanceof CheckpointError && e.message.includes('runs/x/model.safetensors') && e.message.includes(`missing: ${name}`), kind);
  }
});

test('a Hugging Face GPT-2 folder lacking a Conv1D weight is a CheckpointError naming it', () => {
  const gpt = new GPT({ ...BODY, vocab: 13, layers: 2, context: 8, backend: refBackend });
  const hf = bytesOf(hfFolderFiles(readCheckpoint(filesOf('gpt', gpt))));
  const state = parseSafetensors(hf.get('model.safetensors')!).tensors;
  assert.ok(state.delete('transformer.h.1.mlp.c_fc.weight'));
  hf.set('model.safetensors', serializeSafetensors(state, { format: 'pt' }));
  assert.throws(() => modelFromCheckpoint(readHFCheckpoint(hf, { source: 'exports/x' }), { backend: refBackend }),
    (e: Error) => e instanceof CheckpointError && /exports\/x\/model\.safetensors: has no tensor "transformer\.h\.1\.mlp\.c_fc\.weight"/.test(e.message));
});

test('init: false leaves parameters at zero (LayerNorm gains at one) and draws nothing', () => {
  const m = new GPT({ ...BODY, vocab: 13, layers: 2, context: 8, backend: refBackend }, { init: false });
  for (const [name, t] of m.namedParameters()) {
    const want = /norm\d?\.weight$/.test(name) ? 1 : 0;
    assert.ok(Array.from(t.toArray()).every((x) => Object.is(x, want)), `${name} is all ${want}`);
  }
  const b = new BertForMaskedLM({ ...BODY, vocab: 13, layers: 1, maxPositions: 8, backend: refBackend }, { init: false });
  assert.ok(Array.from(b.bert.embeddings.wordEmbeddings.weight.toArray()).every((x) => x === 0));
  // With init (the default) the same config draws: the zeros above are the option's doing.
  assert.ok(Array.from(new GPT({ ...BODY, vocab: 13, layers: 2, context: 8, backend: refBackend }).wte.weight.toArray()).some((x) => x !== 0));
});

