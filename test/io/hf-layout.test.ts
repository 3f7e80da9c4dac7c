// Hugging Face layouts: folders written by an independent PyTorch GPT-2/BERT (scripts/hf_twins.py) load in qkv
// with the same logits; qkv's exports load in that PyTorch with the same logits; bad folders get errors naming
// the tensor or field.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BertForMaskedLM, BertForSequenceClassification } from '../../src/models/bert.js';
import { GPT } from '../../src/models/gpt.js';
import { GPTForSequenceClassification } from '../../src/models/gpt.js';
import type { CheckpointData } from '../../src/train/checkpoint.js';
import { parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { hfFolderFiles, readHFCheckpoint } from '../../src/inference/hf-folder.js';
import { gpt2TokenizerJSON } from '../../src/io/hf-layout.js';
import { tokenizerFromJSON } from '../../src/tokenizers/json.js';
import { loadPretrained } from '../../src/node/pretrained.js';
import { ByteLevelBPE } from '../../src/tokenizers/index.js';
import { WordPieceTokenizer } from '../../src/tokenizers/wordpiece.js';
import { checkpointFiles, readCheckpoint } from '../../src/train/checkpoint.js';
import { CheckpointError } from '../../src/train/checkpoint-fields.js';
import { modelFromCheckpoint } from '../../src/train/checkpoint-models.js';
import type { Module } from '../../src/nn/module.js';
import { Rng } from '../../src/core/rng.js';
import { noGrad, randn, tensor } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/index.js';
import { underCi } from '../helpers/ci.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/hf/', import.meta.url));
const TWINS = fileURLToPath(new URL('../../scripts/hf_twins.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

interface Expected { ids: number[][]; attention_mask: number[][]; token_type_ids: number[][] | null; logits: unknown }

function folder(name: string): Map<string, Uint8Array> {
  const dir = join(FIXTURES, name);
  return new Map(readdirSync(dir).filter((f) => f !== 'expected.json').map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]));
}

function flat(x: unknown): number[] {
  return Array.isArray(x) ? x.flatMap(flat) : [x as number];
}

/** max |a − b| / max |b|: the relative error of a whole logits array. */
function relErr(a: readonly number[], b: readonly number[]): number {
  assert.equal(a.length, b.length, 'logit counts');
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

/** The logits of any of the four kinds: forward(ids, { keyPaddingMask, tokenTypeIds }).logits. */
function logitsOf(model: Module, e: Expected): number[] {
  const ids = tensor(e.ids, { dtype: 'int32' });
  const keyPaddingMask = tensor(e.attention_mask.map((r) => r.map((m) => 1 - m)));
  const tokenTypeIds = e.token_type_ids ? tensor(e.token_type_ids, { dtype: 'int32' }) : null;
  const m = model as unknown as { forward(ids: Tensor, o: object): { logits: Tensor } };
  return Array.from(noGrad(() => m.forward(ids, { keyPaddingMask, tokenTypeIds }).logits).toArray());
}

/** The model of a checkpoint, built as loadPretrained builds it. */
function buildFrom(ck: CheckpointData): Module {
  return modelFromCheckpoint(ck);
}

const CASES: [name: string, kind: string][] = [
  ['gpt2', 'gpt'], ['gpt2-bare', 'gpt'], ['gpt2-gelu', 'gpt'], ['gpt2-cls', 'gpt-classifier'], ['bert', 'bert'], ['bert-cls', 'bert-classifier'],
];

for (const [name, kind] of CASES) {
  test(`HF folder "${name}" written by PyTorch (hf_twins.py) loads as qkv's ${kind} with the same logits (≤ 1e-4 relative)`, (t) => {
    const e = JSON.parse(readFileSync(join(FIXTURES, name, 'expected.json'), 'utf8')) as Expected;
    const ck = readHFCheckpoint(folder(name), { source: name });
    assert.equal(ck.config.modelKind, kind);
    const model = buildFrom(ck).eval();
    const err = relErr(logitsOf(model, e), flat(e.logits));
    t.diagnostic(`${name}: largest relative logit difference ${err.toExponential(2)}`);
    assert.ok(err <= 1e-4, `relative error ${err}`);
    if (name === 'gpt2-bare') assert.deepEqual(ck.ignored.filter((n) => n.endsWith('attn.bias')).length, 2);
    if (name === 'bert') assert.deepEqual(ck.initialized, ['bert.pooler.dense.weight', 'bert.pooler.dense.bias']);
  });
}

/** The fixture's files with model.safetensors rewritten by `edit`. */
function withTensors(name: string, edit: (t: Map<string, Tensor>) => void): Map<string, Uint8Array> {
  const files = folder(name);
  const { tensors, metadata } = parseSafetensors(files.get('model.safetensors')!);
  edit(tensors);
  files.set('model.safetensors', serializeSafetensors(tensors, metadata));
  return files;
}

function withConfig(name: string, edit: (c: Record<string, unknown>) => void): Map<string, Uint8Array> {
  const files = folder(name);
  const c = JSON.parse(new TextDecoder().decode(files.get('config.json'))) as Record<string, unknown>;
  edit(c);
  files.set('config.json', new TextEncoder().encode(JSON.stringify(c)));
  return files;
}

test('an HF folder missing a tensor is a CheckpointError naming it, its expected shape and the architecture', () => {
  const files = withTensors('gpt2-gelu', (t) => t.delete('transformer.h.1.mlp.c_fc.weight'));
  assert.throws(() => readHFCheckpoint(files, { source: 'x' }), (err: Error) => {
    assert.ok(err instanceof CheckpointError);
    assert.match(err.message, /x\/model\.safetensors: has no tensor "transformer\.h\.1\.mlp\.c_fc\.weight", expected one of shape \[16, 24\] \(n_embd, n_inner of x\/config\.json\) for GPT2LMHeadModel/);
    return true;
  });
  const bert = withTensors('bert-cls', (t) => t.delete('bert.encoder.layer.0.attention.self.key.bias'));
  assert.throws(() => readHFCheckpoint(bert, { source: 'b' }), /has no tensor "bert\.encoder\.layer\.0\.attention\.self\.key\.bias".*BertForSequenceClassification/);
});

test('an HF tensor of the wrong shape is a CheckpointError naming the tensor, both shapes and the config fields', () => {
  const files = withTensors('gpt2-gelu', (t) => t.set('transformer.h.0.attn.c_attn.weight', tensor(new Float32Array(48 * 16), { shape: [48, 16] })));
  assert.throws(() => readHFCheckpoint(files, { source: 'x' }), (err: Error) => {
    assert.ok(err instanceof CheckpointError);
    // [48, 16] is qkv's own [3D, D] layout: GPT-2's Conv1D wants the transpose.
    assert.match(err.message, /tensor "transformer\.h\.0\.attn\.c_attn\.weight" has shape \[48, 16\], expected \[16, 48\] \(n_embd, 3 · n_embd/);
    return true;
  });
  const vocab = withConfig('bert-cls', (c) => { c.vocab_size = 30; });
  assert.throws(() => readHFCheckpoint(vocab, { source: 'b' }), /"bert\.embeddings\.word_embeddings\.weight" has shape \[29, 16\], expected \[30, 16\] \(vocab_size, hidden_size/);
});

test('an unknown model_type or architecture, or a tensor with no place, is a CheckpointError naming it', () => {
  const t5 = withConfig('gpt2-gelu', (c) => { c.model_type = 't5'; });
  assert.throws(() => readHFCheckpoint(t5, { source: 'x' }), (err: Error) => err instanceof CheckpointError && /x\/config\.json: model_type is "t5", which qkv cannot read, expected "gpt2" or "bert"/.test(err.message));
  const none = withConfig('gpt2-gelu', (c) => { delete c.model_type; });
  assert.throws(() => readHFCheckpoint(none, { source: 'x' }), /x\/config\.json: model_type is missing, which qkv cannot read/);
  const arch = withConfig('gpt2-gelu', (c) => { c.architectures = ['GPT2DoubleHeadsModel']; });
  assert.throws(() => readHFCheckpoint(arch, { source: 'x' }), /architectures names "GPT2DoubleHeadsModel", which qkv cannot build, expected one of GPT2LMHeadModel, GPT2ForSequenceClassification/);
  const extra = withTensors('gpt2-gelu', (t) => t.set('transformer.h.2.ln_1.weight', tensor(new Float32Array(16))));
  assert.throws(() => readHFCheckpoint(extra, { source: 'x' }), /holds 1 tensor that GPT2LMHeadModel has no place for \("transformer\.h\.2\.ln_1\.weight"\)/);
  const cross = withConfig('gpt2-gelu', (c) => { c.add_cross_attention = true; });
  assert.throws(() => readHFCheckpoint(cross, { source: 'x' }), /add_cross_attention is true, expected false/);
});

/** A tiny trained-looking GPT checkpoint (random weights), as qkv saves it, with a byte-level BPE tokenizer. */
function gptCheckpoint() {
  const tok = ByteLevelBPE.train(['the cat sat on the mat', 'a dog and a cat'], { vocabSize: 300 });
  const gpt = new GPT({ vocab: tok.vocabSize, dModel: 16, heads: 4, layers: 2, dFF: 40, context: 12, activation: 'gelu', seed: 3 });
  noGrad(() => { for (const [n, p] of gpt.namedParameters()) if (n.includes('norm')) p.assign(p.add(tensor([0.1]).mul(p.shape.length))); });
  const files = checkpointFiles({ modelKind: 'gpt', modelConfig: gpt.config, model: gpt, tokenizer: tok, task: { name: 'lm', options: {} } });
  const bytes = new Map(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v]));
  return { gpt: gpt.eval(), tok, ck: readCheckpoint(bytes) };
}

test('qkv export --format hf of a GPT: HF names and layouts, tied weights once, metadata format pt; loadPretrained gives identical logits', async () => {
  const { gpt, tok, ck } = gptCheckpoint();
  const files = hfFolderFiles(ck);
  assert.deepEqual(Object.keys(files).sort(), ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
  const config = JSON.parse(files['config.json'] as string) as Record<string, unknown>;
  assert.deepEqual([config.model_type, config.architectures, config.n_embd, config.n_layer, config.n_head, config.n_inner, config.n_positions, config.activation_function, config.layer_norm_epsilon],
    ['gpt2', ['GPT2LMHeadModel'], 16, 2, 4, 40, 12, 'gelu', 1e-5]);
  const st = parseSafetensors(files['model.safetensors'] as Uint8Array);
  assert.deepEqual(st.metadata, { format: 'pt' });
  assert.ok(!st.tensors.has('lm_head.weight'), 'the tied head is stored once, as wte');
  assert.equal(st.tensors.size, 2 + 2 * 12 + 2);
  // Conv1D [in, out] is the transpose of qkv's Linear [out, in].
  const cAttn = st.tensors.get('transformer.h.1.attn.c_attn.weight')!;
  assert.deepEqual(cAttn.shape, [16, 48]);
  const inProj = gpt.stateDict().get('layers.1.self_attn.in_proj_weight')!.toArray();
  const c = cAttn.toArray();
  for (const [i, j] of [[0, 0], [5, 20], [15, 47]]) assert.equal(c[i * 48 + j], inProj[j * 16 + i]);
  const tc = JSON.parse(files['tokenizer_config.json'] as string) as Record<string, unknown>;
  assert.equal(tc.tokenizer_class, 'GPT2Tokenizer');
  assert.equal(tc.model_max_length, 12);

  const back = await loadPretrained(files);
  assert.equal(back.kind, 'gpt');
  assert.equal(back.task, 'lm');
  const { backend: _b, ...own } = gpt.config;
  assert.deepEqual(back.config.model, own);
  const e: Expected = { ids: [[5, 9, 200, 3, 44, 7], [8, 1, 2, 250, 0, 0]], attention_mask: [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]], token_type_ids: null, logits: null };
  assert.deepEqual(logitsOf(back.model, e), logitsOf(gpt, e));
  assert.deepEqual(back.tokenizer.encode('the cat and the dog'), tok.encode('the cat and the dog'));
});

/** A qkv model of each kind with random weights (norms and biases moved off 1 and 0), as a checkpoint's data. */
function qkvCheckpoint(kind: string): { model: Module; ck: CheckpointData } {
  const labels = ['ham', 'spam', 'eggs'];
  const gpt = { vocab: 31, dModel: 16, heads: 4, layers: 2, dFF: 40, context: 12, activation: 'gelu_new' as const, seed: 7 };
  const bert = { vocab: 29, dModel: 16, heads: 4, layers: 2, dFF: 24, maxPositions: 10, typeVocab: 2, seed: 8 };
  const model: Module & { config: object } =
    kind === 'gpt' ? new GPT(gpt)
      : kind === 'gpt-classifier' ? new GPTForSequenceClassification({ ...gpt, labels, padId: 0 })
        : kind === 'bert' ? new BertForMaskedLM(bert)
          : new BertForSequenceClassification({ ...bert, labels: labels.slice(0, 2) });
  const rng = new Rng(kind.length);
  noGrad(() => {
    for (const [n, p] of model.namedParameters()) if (p.ndim === 1) p.assign(p.add(randn(p.shape, rng, { std: 0.1 })));
  });
  const { backend: _b, ...config } = model.config as Record<string, unknown>;
  const ck: CheckpointData = {
    source: kind, config: { format: 'qkv-checkpoint', qkvVersion: '0.1.0', modelKind: kind, model: config, task: null },
    modelState: model.stateDict(), tokenizer: null, targetTokenizer: null, optimizerState: null, trainerState: null,
  };
  return { model: model.eval(), ck };
}

for (const kind of ['gpt', 'gpt-classifier', 'bert', 'bert-classifier']) {
  test(`qkv's ${kind} exported in HF's layout loads in PyTorch (hf_twins.py) with the same logits (≤ 1e-4 relative)`, { skip: hasTorch || underCi ? false : `${PYTHON} has no torch` }, (t) => {
    const { model, ck } = qkvCheckpoint(kind);
    const dir = mkdtempSync(join(tmpdir(), 'qkv-hf-'));
    try {
      for (const [name, data] of Object.entries(hfFolderFiles(ck))) writeFileSync(join(dir, name), data);
      const bert = kind.startsWith('bert');
      const e: Expected = {
        ids: [[1, 9, 20, 3, 14, 7, 12, 10], [1, 5, 2, 25, 17, 0, 0, 0]],
        attention_mask: [[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0, 0, 0]],
        token_type_ids: bert ? [[0, 0, 0, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1, 1]] : null, logits: null,
      };
      const args = [TWINS, 'logits', dir, '--ids', JSON.stringify(e.ids), '--mask', JSON.stringify(e.attention_mask)];
      if (e.token_type_ids) args.push('--types', JSON.stringify(e.token_type_ids));
      const r = spawnSync(PYTHON, args, { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { architecture: string; logits: unknown };
      assert.equal(out.architecture, { gpt: 'GPT2LMHeadModel', 'gpt-classifier': 'GPT2ForSequenceClassification', bert: 'BertForMaskedLM', 'bert-classifier': 'BertForSequenceClassification' }[kind]);
      const err = relErr(logitsOf(model, e), flat(out.logits));
      t.diagnostic(`${kind} export → PyTorch: largest relative logit difference ${err.toExponential(2)}`);
      assert.ok(err <= 1e-4, `relative error ${err}`);
      // And back: the export read by qkv is the same model, bit for bit.
      const files = new Map(readdirSync(dir).map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]));
      assert.deepEqual(logitsOf(buildFrom(readHFCheckpoint(files)).eval(), e), logitsOf(model, e));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a BERT classifier with a WordPiece tokenizer exported in HF layout reads back with its labels, tokenizer and identical logits', () => {
  const texts = ['Free money now!!! Click here', 'Meeting moved to Tuesday at noon', 'Win a prize, claim your free gift', 'Lunch on Friday?'];
  const tok = WordPieceTokenizer.train(texts, { vocabSize: 120 });
  const clf = new BertForSequenceClassification({ vocab: tok.vocabSize, dModel: 16, heads: 2, layers: 1, dFF: 32, maxPositions: 16, labels: ['ham', 'spam'], seed: 4 }).eval();
  const files = checkpointFiles({ modelKind: 'bert-classifier', modelConfig: clf.config, model: clf, tokenizer: tok, task: { name: 'classify', options: {} } });
  const bytes = new Map(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v]));
  const hf = hfFolderFiles(readCheckpoint(bytes));
  const config = JSON.parse(hf['config.json'] as string) as Record<string, unknown>;
  assert.deepEqual([config.architectures, config.id2label, config.label2id, config.layer_norm_eps], [['BertForSequenceClassification'], { 0: 'ham', 1: 'spam' }, { ham: 0, spam: 1 }, 1e-12]);
  const tc = JSON.parse(hf['tokenizer_config.json'] as string) as Record<string, unknown>;
  assert.deepEqual([tc.tokenizer_class, tc.cls_token, tc.sep_token, tc.mask_token, tc.model_max_length], ['BertTokenizer', '[CLS]', '[SEP]', '[MASK]', 16]);
  const ck = readHFCheckpoint(new Map(Object.entries(hf).map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v])), { source: 'bert' });
  assert.equal(ck.config.task?.name, 'classify');
  const back = modelFromCheckpoint(ck).eval() as BertForSequenceClassification;
  assert.deepEqual(back.labels, ['ham', 'spam']);
  const ids = tok.encode('claim your free money', { addSpecial: true });
  assert.deepEqual(ck.tokenizer!.encode('claim your free money', { addSpecial: true }), ids);
  const e: Expected = { ids: [ids], attention_mask: [ids.map(() => 1)], token_type_ids: null, logits: null };
  assert.deepEqual(logitsOf(back, e), logitsOf(clf, e));
});

test('gpt2TokenizerJSON: CRLF vocab.bpe reads as LF; a bad merge names its line in the file, blank lines and all', () => {
  // Bytes Ġ (space), t, h, e: a four-symbol toy vocabulary with two merges.
  const encoder = JSON.stringify({ '\u0120': 0, t: 1, h: 2, e: 3, th: 4, the: 5, '<|endoftext|>': 6 });
  const lf = tokenizerFromJSON(gpt2TokenizerJSON(encoder, '#version: 0.2\nt h\nth e\n'));
  const crlf = tokenizerFromJSON(gpt2TokenizerJSON(encoder, '#version: 0.2\r\nt h\r\nth e\r\n'));
  assert.deepEqual(lf.encode('the'), [5]);
  assert.deepEqual(crlf.encode('the'), [5]);
  assert.throws(() => gpt2TokenizerJSON(encoder, '#version: 0.2\nt h\n\nth e x\n', 'g'), /g\/vocab\.bpe: line 4 is "th e x", expected two symbols/);
  assert.throws(() => gpt2TokenizerJSON(encoder, 't h\nbad\n', 'g'), /g\/vocab\.bpe: line 2 is "bad"/);
});

test('a float64 model exports with torch_dtype float64, and an HF folder of float64 weights (no qkv block) builds a float64 model with the same logits', () => {
  const gpt = new GPT({ vocab: 40, dModel: 16, heads: 4, layers: 1, dFF: 32, context: 8, activation: 'gelu_new', dtype: 'float64', seed: 5 }).eval();
  const bert = new BertForMaskedLM({ vocab: 40, dModel: 16, heads: 2, layers: 1, dFF: 32, maxPositions: 8, dtype: 'float64', seed: 6 }).eval();
  const e: Expected = { ids: [[3, 9, 20, 7]], attention_mask: [[1, 1, 1, 1]], token_type_ids: null, logits: null };
  for (const [kind, model] of [['gpt', gpt], ['bert', bert]] as const) {
    const files = checkpointFiles({ modelKind: kind, modelConfig: model.config, model, tokenizer: null, task: null });
    const bytes = new Map(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v]));
    const hf = hfFolderFiles(readCheckpoint(bytes));
    const config = JSON.parse(hf['config.json'] as string) as Record<string, unknown>;
    assert.equal(config.torch_dtype, 'float64', kind);
    assert.equal(parseSafetensors(hf['model.safetensors'] as Uint8Array).tensors.get(kind === 'gpt' ? 'transformer.wte.weight' : 'bert.embeddings.word_embeddings.weight')!.dtype, 'float64');
    delete config.qkv; // as transformers' save_pretrained writes it
    const tensors = parseSafetensors(hf['model.safetensors'] as Uint8Array).tensors;
    if (kind === 'bert') for (const p of ['weight', 'bias']) tensors.delete(`bert.pooler.dense.${p}`); // HF's BertForMaskedLM has no pooler
    const foreign = new Map([['config.json', new TextEncoder().encode(JSON.stringify(config))], ['model.safetensors', serializeSafetensors(tensors, { format: 'pt' })]]);
    const ck = readHFCheckpoint(foreign, { source: kind });
    if (kind === 'bert') assert.deepEqual(ck.initialized, ['bert.pooler.dense.weight', 'bert.pooler.dense.bias']);
    const back = buildFrom(ck).eval();
    assert.deepEqual(logitsOf(back, e), logitsOf(model, e), kind);
  }
});

test('num_labels without id2label is capped before label names are made: a huge one is a CheckpointError naming num_labels', () => {
  const huge = withConfig('gpt2-cls', (c) => { delete c.id2label; delete c.label2id; c.num_labels = 100_000; });
  assert.throws(() => readHFCheckpoint(huge, { source: 'x' }), (e: Error) => e instanceof CheckpointError && /x\/config\.json: num_labels is 100000, expected an integer from 2 to 65536/.test(e.message));
  const three = withConfig('gpt2-cls', (c) => { delete c.id2label; delete c.label2id; c.num_labels = 3; });
  assert.deepEqual(readHFCheckpoint(three).config.model.labels, ['LABEL_0', 'LABEL_1', 'LABEL_2']);
});

test('the weights decide the dtype, not the qkv block: a float64 export re-saved in float32 (as PyTorch saves it) reads as a float32 model', () => {
  const gpt = new GPT({ vocab: 40, dModel: 16, heads: 4, layers: 1, dFF: 32, context: 8, activation: 'gelu_new', dtype: 'float64', seed: 7 }).eval();
  const files = checkpointFiles({ modelKind: 'gpt', modelConfig: gpt.config, model: gpt, tokenizer: null, task: null });
  const hf = hfFolderFiles(readCheckpoint(new Map(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v]))));
  const f32 = new Map([...parseSafetensors(hf['model.safetensors'] as Uint8Array).tensors].map(([n, t]) => [n, t.to('float32')]));
  const resaved = new Map([['config.json', new TextEncoder().encode(hf['config.json'] as string)], ['model.safetensors', serializeSafetensors(f32, { format: 'pt' })]]);
  const ck = readHFCheckpoint(resaved, { source: 'ddp-out' });
  assert.equal(ck.config.model.dtype, 'float32');
  const e: Expected = { ids: [[3, 9, 20, 7]], attention_mask: [[1, 1, 1, 1]], token_type_ids: null, logits: null };
  assert.ok(relErr(logitsOf(buildFrom(ck).eval(), e), logitsOf(gpt, e)) < 1e-5);
});

test('a BERT export names the tokenizer\'s [PAD] as pad_token_id (transformers keeps that word-embedding row out of training)', () => {
  const tok = new WordPieceTokenizer({ tokens: ['a', 'b', '##a', '[CLS]', '[SEP]', '[UNK]', '[MASK]', '[PAD]'], padId: 7, bosId: 3, eosId: 4, unkId: 5, specialIds: [3, 4, 5, 6, 7] });
  const mlm = new BertForMaskedLM({ vocab: tok.vocabSize, dModel: 8, heads: 2, layers: 1, dFF: 16, maxPositions: 8 });
  const files = checkpointFiles({ modelKind: 'bert', modelConfig: mlm.config, model: mlm, tokenizer: tok, task: null });
  const hf = hfFolderFiles(readCheckpoint(new Map(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v]))));
  assert.equal((JSON.parse(hf['config.json'] as string) as { pad_token_id: number }).pad_token_id, 7);
});
