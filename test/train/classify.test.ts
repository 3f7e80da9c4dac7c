// Task classify: metrics against hand counts, labelled files and their errors, a tiny run end to end
// on a learnable toy set, and --init-from a pre-trained BERT or GPT body (loaded bit for bit, new head listed).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BadRowError, BertForMaskedLM, BertForSequenceClassification, ByteLevelBPE, FineTuneError, GPT, GPTForSequenceClassification, WordPieceTokenizer,
  buildTaskRun, checkpointFiles, classificationMetrics, classifyConfig, initFromCheckpoint, loadTransferredWeights, readCheckpoint,
} from '../../src/index.js';
import type { BertConfig, Module, Tokenizer } from '../../src/index.js';
import { readLabeledTexts } from '../../src/data/labeled-files.js';
import { runTraining } from '../../src/cli/train.js';

const quiet = { out: () => undefined, err: () => undefined };

test('classificationMetrics: accuracy, and precision, recall and F1 of the positive label, as counted by hand', () => {
  // tp 2 (rows 0, 4), fp 1 (row 1), fn 1 (row 3), tn 1 (row 2).
  const m = classificationMetrics([1, 1, 0, 0, 1], [1, 0, 0, 1, 1], 1);
  assert.deepEqual(m, { accuracy: 3 / 5, precision: 2 / 3, recall: 2 / 3, f1: 2 / 3, examples: 5 });
  // No positive predicted: precision 0 (scikit-learn's zero_division=0), recall 0, F1 0.
  assert.deepEqual(classificationMetrics([0, 0], [1, 0], 1), { accuracy: 0.5, precision: 0, recall: 0, f1: 0, examples: 2 });
  // P = 1/2, R = 1 → F1 = 2·(1/2)·1 / (3/2) = 2/3.
  assert.ok(Math.abs(classificationMetrics([1, 1], [1, 0], 1).f1 - 2 / 3) < 1e-15);
  assert.throws(() => classificationMetrics([1], [1, 0], 1), /1 predictions but 2 labels/);
});

/** A folder for one test's files, removed after it. */
function scratch(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-classify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function readAll(path: string, o: Parameters<typeof readLabeledTexts>[1] = {}) {
  const out = [];
  for await (const ex of readLabeledTexts(path, o)) out.push(ex);
  return out;
}

test('readLabeledTexts: a TSV header names the columns, JSON Lines name the fields; an unknown label column is an error naming the columns there are', async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'a.tsv'), 'id\ttext\tlabel\n1\twin money\tspam\n\n2\t hello there \tham\n');
  assert.deepEqual(await readAll(join(dir, 'a.tsv')), [
    { id: `${join(dir, 'a.tsv')}:2`, text: 'win money', label: 'spam' },
    { id: `${join(dir, 'a.tsv')}:4`, text: 'hello there', label: 'ham' },
  ]);
  await assert.rejects(readAll(join(dir, 'a.tsv'), { labelColumn: 'category' }), (e: Error) => e instanceof BadRowError &&
    e.message === `${join(dir, 'a.tsv')}:1: the header has no column "category" (columns: "id", "text", "label"), expected a header row naming the label column (or name it with labelColumn)`);
  writeFileSync(join(dir, 'b.jsonl'), '{"body": "win", "y": 1}\n{"body": "hi", "y": 0}\n');
  assert.deepEqual((await readAll(join(dir, 'b.jsonl'), { textColumn: 'body', labelColumn: 'y' })).map((e) => [e.text, e.label]), [['win', '1'], ['hi', '0']]);
  await assert.rejects(readAll(join(dir, 'b.jsonl'), { textColumn: 'body' }), (e: Error) => e instanceof BadRowError &&
    e.message === `${join(dir, 'b.jsonl')}:1: missing field "label" (fields: "body", "y"), expected the label there (or name its field with labelColumn)`);
  writeFileSync(join(dir, 'c.tsv'), 'text\tlabel\nonly one field\n');
  await assert.rejects(readAll(join(dir, 'c.tsv')), /c\.tsv:2: 1 tab-separated fields, expected 2 \(the header's text, label\)/);
});

/** A toy set a classifier learns in seconds: 'spam' texts hold "win money", 'ham' texts "see you"; the rest is shared filler. */
function toyRows(n: number, seed: number): string[] {
  const filler = ['the', 'a', 'report', 'today', 'friday', 'office', 'note', 'list', 'team', 'call'];
  let x = seed;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) % filler.length;
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const spam = i % 2 === 0;
    const words = [filler[next()], filler[next()], spam ? 'win money' : 'see you', filler[next()]];
    rows.push(`${words.join(' ')}\t${spam ? 'spam' : 'ham'}`);
  }
  return rows;
}

function writeToy(dir: string): { train: string; valid: string } {
  const train = join(dir, 'train.tsv');
  const valid = join(dir, 'valid.tsv');
  writeFileSync(train, ['text\tlabel', ...toyRows(64, 1)].join('\n') + '\n');
  writeFileSync(valid, ['text\tlabel', ...toyRows(16, 7)].join('\n') + '\n');
  return { train, valid };
}

test('classify: a tiny BERT run on a learnable toy set: the loss falls, valid accuracy is perfect, and the checkpoint keeps the label names', async (t) => {
  const dir = scratch(t);
  const { train, valid } = writeToy(dir);
  const log = join(dir, 'log.jsonl');
  const config = classifyConfig('tiny', { train, valid, maxSteps: 40, evalEvery: 40, lrFactor: 0.2, warmup: 5, maxTokens: 128, seed: 3 });
  await runTraining({ config, out: join(dir, 'run'), log, handleSignals: false }, quiet);
  const steps = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'step');
  const losses = steps.map((e) => e.loss as number);
  assert.equal(losses.length, 40);
  assert.ok(losses.every(Number.isFinite));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(losses.slice(-8)) < 0.5 * mean(losses.slice(0, 8)), `loss ${mean(losses.slice(0, 8))} → ${mean(losses.slice(-8))}`);
  const evals = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'eval');
  assert.equal(evals.at(-1).metrics.accuracy, 1);
  const cfg = JSON.parse(readFileSync(join(dir, 'run', 'best', 'config.json'), 'utf8'));
  assert.equal(cfg.modelKind, 'bert-classifier');
  assert.deepEqual(cfg.model.labels, ['ham', 'spam']);
  assert.equal(cfg.task.options.positiveLabel, null);
});

test('classify: an unknown positiveLabel, a single label and a non-classifier checkpoint are errors that say what was expected', async (t) => {
  const dir = scratch(t);
  const { train, valid } = writeToy(dir);
  await assert.rejects(buildTaskRun(classifyConfig('tiny', { train, valid, positiveLabel: 'junk' })), /config field 'positiveLabel' is "junk", expected one of the labels "ham", "spam"/);
  const one = join(dir, 'one.tsv');
  writeFileSync(one, 'text\tlabel\na b\tham\nc d\tham\n');
  await assert.rejects(buildTaskRun(classifyConfig('tiny', { train: one, valid: one })), /1 label \(ham\), expected at least 2 to classify/);
  const tok = WordPieceTokenizer.train(['a b c d'], { vocabSize: 40 });
  const mt = new (await import('../../src/index.js')).Transformer({ srcVocab: tok.vocabSize, tgtVocab: tok.vocabSize, dModel: 8, heads: 2, dFF: 16, encoderLayers: 1, decoderLayers: 1 });
  const ck = readCheckpoint(bytes(checkpointFiles({ modelKind: 'transformer', modelConfig: mt.config, model: mt, tokenizer: tok, task: { name: 'seq2seq', options: {} } })), { source: 'runs/s2s/best' });
  assert.throws(() => initFromCheckpoint(classifyConfig('tiny', { train, valid }), ck, { resizeVocab: false }), (e: Error) => e instanceof FineTuneError &&
    /^runs\/s2s\/best: a transformer model \(an encoder-decoder, task 'seq2seq'\), but task classify with arch 'bert' trains a bert-classifier \(a BERT sequence classifier\); start from a bert-classifier \(a BERT sequence classifier\) or bert \(BERT's masked LM\) checkpoint$/.test(e.message));
});

/** checkpointFiles' output as the bytes readCheckpoint takes. */
function bytes(files: Record<string, Uint8Array | string>): Map<string, Uint8Array> {
  return new Map(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v]));
}

function values(m: Module): Map<string, number[]> {
  return new Map([...m.stateDict()].map(([k, v]) => [k, Array.from(v.toArray())]));
}

function pretrainedCheckpoint(kind: 'bert' | 'gpt', model: Module & { config: object }, tokenizer: Tokenizer, task: string) {
  return readCheckpoint(bytes(checkpointFiles({ modelKind: kind, modelConfig: model.config, model, tokenizer, task: { name: task, options: {} } })), { source: `runs/${task}/best` });
}

test('classify --init-from an mlm checkpoint: every bert. tensor loads bit for bit, the classifier head keeps a fresh model\'s initialisation and is listed; cls. is left out', async (t) => {
  const dir = scratch(t);
  const { train, valid } = writeToy(dir);
  const tok = WordPieceTokenizer.train(toyRows(64, 1).map((r) => r.split('\t')[0]), { vocabSize: 60 });
  const mlm = new BertForMaskedLM({ vocab: tok.vocabSize, dModel: 16, heads: 2, layers: 1, dFF: 32, maxPositions: 24, seed: 11 });
  const ck = pretrainedCheckpoint('bert', mlm, tok, 'mlm');
  const plan = initFromCheckpoint(classifyConfig('tiny', { train, valid, seed: 5 }), ck, { resizeVocab: false });
  assert.deepEqual(plan.transfer, { from: 'bert', to: 'bert-classifier', prefix: '' });
  assert.equal((plan.config as { model: { context: number } }).model.context, 24, 'context comes from the checkpoint\'s maxPositions');
  const run = await buildTaskRun(plan.config, plan.reuse);
  assert.deepEqual(run.tokenizer.toJSON(), tok.toJSON(), 'the tokenizer is the checkpoint\'s');
  const fresh = values(new BertForSequenceClassification({ ...(ck.config.model as unknown as BertConfig), labels: ['ham', 'spam'], seed: 5 }));
  const notes = loadTransferredWeights(run.model, ck.modelState, 'runs/mlm/best/model.safetensors', plan.transfer!);
  const got = values(run.model);
  for (const [name, v] of got) {
    if (name.startsWith('bert.')) assert.deepEqual(v, Array.from(ck.modelState.get(name)!.toArray()), name);
    else assert.deepEqual(v, fresh.get(name), `${name} keeps its initialisation`);
  }
  assert.deepEqual([...got.keys()].filter((n) => !n.startsWith('bert.')).sort(), ['classifier.bias', 'classifier.weight']);
  assert.match(notes.join('\n'), /newly initialised \(not in the checkpoint; train them on this task\): classifier\.weight, classifier\.bias/);
  assert.match(notes.join('\n'), /not used \(the pre-training head\): cls\./);
});

test('classify --init-from an lm checkpoint (arch gpt): GPT\'s tensors load under transformer., score.weight is new', async (t) => {
  const dir = scratch(t);
  const { train, valid } = writeToy(dir);
  const tok = ByteLevelBPE.train(toyRows(64, 1).map((r) => r.split('\t')[0]), { vocabSize: 280 });
  const gpt = new GPT({ vocab: tok.vocabSize, dModel: 16, heads: 2, layers: 1, context: 32, dropout: 0, seed: 4 });
  const ck = pretrainedCheckpoint('gpt', gpt, tok, 'lm');
  const plan = initFromCheckpoint(classifyConfig('tiny', { arch: 'gpt', vocabSize: 300, train, valid }), ck, { resizeVocab: false });
  assert.deepEqual(plan.transfer, { from: 'gpt', to: 'gpt-classifier', prefix: 'transformer.' });
  const run = await buildTaskRun(plan.config, plan.reuse);
  assert.ok(run.model instanceof GPTForSequenceClassification);
  const notes = loadTransferredWeights(run.model, ck.modelState, 'runs/lm/best/model.safetensors', plan.transfer!);
  for (const [name, v] of values(run.model)) {
    if (name.startsWith('transformer.')) assert.deepEqual(v, Array.from(ck.modelState.get(name.slice('transformer.'.length))!.toArray()), name);
  }
  assert.match(notes[1], /newly initialised .*: score\.weight$/);
  // A BERT checkpoint cannot start a GPT classifier.
  const mlm = new BertForMaskedLM({ vocab: 40, dModel: 8, heads: 2, layers: 1, dFF: 16, maxPositions: 8 });
  const bertCk = pretrainedCheckpoint('bert', mlm, WordPieceTokenizer.train(['a b'], { vocabSize: 40 }), 'mlm');
  assert.throws(() => initFromCheckpoint(classifyConfig('tiny', { arch: 'gpt', vocabSize: 300, train, valid }), bertCk, { resizeVocab: false }),
    /a bert model \(BERT's masked LM, task 'mlm'\), but task classify with arch 'gpt' trains a gpt-classifier/);
});

test('classify: maxTrainExamples spreads over the train split, so a file sorted by label still trains on every label', async (t) => {
  const dir = scratch(t);
  const train = join(dir, 'sorted.tsv');
  const valid = join(dir, 'valid.tsv');
  // 30 ham rows, then 30 spam rows: the first 10 would all be ham.
  const rows = [...Array.from({ length: 30 }, (_, i) => `see you at ${i} o'clock\tham`), ...Array.from({ length: 30 }, (_, i) => `win ${i} dollars now\tspam`)];
  writeFileSync(train, ['text\tlabel', ...rows].join('\n') + '\n');
  writeFileSync(valid, 'text\tlabel\nlunch at noon\tham\nfree money\tspam\n');
  const run = await buildTaskRun(classifyConfig('tiny', { train, valid, maxTrainExamples: 10 }));
  assert.match(run.summary, /: 10 training examples \(5 ham, 5 spam\)/);
});
