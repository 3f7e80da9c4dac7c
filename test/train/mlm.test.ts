// Task mlm: packed [CLS] … [SEP] sequences, the masked loss against a full-vocabulary cross-entropy at the masked
// positions, fixed valid masks, and a tiny pre-training run on a learnable toy text whose loss falls.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BertForMaskedLM, Rng, buildTaskRun, crossEntropy, maskedLoss, mlmConfig, packSequences, tensor } from '../../src/index.js';
import type { MlmBatch } from '../../src/index.js';
import { runTraining } from '../../src/cli/train.js';

const quiet = { out: () => undefined, err: () => undefined };

test('packSequences: documents joined with [SEP], cut into [CLS] + context − 2 tokens + [SEP]; the short tail is dropped', () => {
  assert.deepEqual(packSequences([[5, 6, 7], [8]], { cls: 1, sep: 2, context: 5 }).map((a) => Array.from(a)), [[1, 5, 6, 7, 2], [1, 2, 8, 2, 2]]);
  assert.deepEqual(packSequences([[5, 6, 7, 8, 9]], { cls: 1, sep: 2, context: 4 }).map((a) => Array.from(a)), [[1, 5, 6, 2], [1, 7, 8, 2], [1, 9, 2, 2]]);
  assert.deepEqual(packSequences([[5, 6, 7, 8]], { cls: 1, sep: 2, context: 4 }).map((a) => Array.from(a)), [[1, 5, 6, 2], [1, 7, 8, 2]], 'the lone [SEP] tail is dropped');
  assert.throws(() => packSequences([[5]], { cls: 1, sep: 2, context: 2 }), /context 2, expected an integer ≥ 3/);
});

test('maskedLoss: the cross-entropy of the masked positions equals the full [B·T, V] cross-entropy with every other position ignored', () => {
  const model = new BertForMaskedLM({ vocab: 30, dModel: 16, heads: 2, layers: 1, dFF: 32, maxPositions: 6, dropout: 0, attentionDropout: 0, seed: 1 });
  const input = tensor(Int32Array.from([1, 4, 9, 4, 12, 2, 1, 7, 4, 20, 4, 2]), { shape: [2, 6], dtype: 'int32' });
  const positions = [1, 3, 8, 10];
  const targets = [15, 16, 17, 18];
  const b: MlmBatch = {
    input,
    positions: tensor(Int32Array.from(positions), { shape: [4], dtype: 'int32' }),
    targets: tensor(Int32Array.from(targets), { shape: [4], dtype: 'int32' }),
  };
  const labels = new Int32Array(12).fill(-100);
  positions.forEach((p, i) => { labels[p] = targets[i]; });
  const full = crossEntropy(model.forward(input).logits.reshape([12, 30]), tensor(labels, { shape: [12], dtype: 'int32' }), { ignoreIndex: -100 }).item();
  const { loss, tokens } = maskedLoss(model, b, 'mean');
  assert.equal(tokens, 4);
  assert.ok(Math.abs(loss.item() - full) < 1e-5, `${loss.item()} vs ${full}`);
});

/** A text a masked LM learns in seconds: a few sentences repeated. */
function toyText(): string {
  const sentences = ['the cat sat on the mat', 'a dog ran in the park', 'we like green tea', 'birds sing at dawn'];
  const paragraphs: string[] = [];
  const rng = new Rng(2);
  for (let i = 0; i < 120; i++) paragraphs.push(Array.from({ length: 3 }, () => sentences[rng.int(sentences.length)]).join(' . ') + ' .');
  return paragraphs.join('\n\n') + '\n';
}

test('mlm: batches hold [CLS] … [SEP] rows of context tokens, only non-special tokens are predicted, and the masks are the same on a second build', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-mlm-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const train = join(dir, 'toy.txt');
  writeFileSync(train, toyText());
  const config = mlmConfig('tiny', { train, validShare: 0.2, vocabSize: 60, model: { context: 16 }, maxTokens: 64, seed: 4 });
  const a = await buildTaskRun(config);
  const b = await buildTaskRun(config);
  const tok = a.tokenizer as unknown as { bosId: number; eosId: number; padId: number; unkId: number; maskId: number };
  const [first] = a.task.batches(0, new Rng(9)) as Iterable<MlmBatch>;
  const [again] = b.task.batches(0, new Rng(9)) as Iterable<MlmBatch>;
  assert.deepEqual(first.input.shape, [4, 16]);
  assert.deepEqual(Array.from(first.input.toArray()), Array.from(again.input.toArray()));
  assert.deepEqual(Array.from(first.positions.toArray()), Array.from(again.positions.toArray()));
  const ids = first.input.toArray();
  for (let r = 0; r < 4; r++) {
    assert.equal(ids[r * 16], tok.bosId);
    assert.equal(ids[r * 16 + 15], tok.eosId);
  }
  const special = new Set([tok.bosId, tok.eosId, tok.padId, tok.unkId, tok.maskId]);
  for (const target of first.targets.toArray()) assert.ok(!special.has(target), `a special token ${target} is never predicted`);
  for (const p of first.positions.toArray()) assert.ok(p % 16 !== 0 && p % 16 !== 15, 'never [CLS] nor [SEP]');
  // Evaluation scores fixed masks: the same model gives the same numbers twice.
  a.model.eval();
  assert.deepEqual(a.task.evaluate!(a.model), a.task.evaluate!(a.model));
});

test('mlm: a tiny pre-training run on a learnable toy text: the masked loss falls; valid masked accuracy and perplexity are reported', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-mlm-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const train = join(dir, 'toy.txt');
  writeFileSync(train, toyText());
  const log = join(dir, 'log.jsonl');
  const config = mlmConfig('tiny', { train, validShare: 0.2, vocabSize: 60, model: { context: 16, dModel: 32, dFF: 64 }, maxTokens: 256, maxSteps: 60, evalEvery: 60, warmup: 10, lrFactor: 3, seed: 1 });
  await runTraining({ config, out: join(dir, 'run'), log, handleSignals: false }, quiet);
  const events = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const losses = events.filter((e) => e.type === 'step').map((e) => e.loss as number);
  assert.equal(losses.length, 60);
  assert.ok(losses.every(Number.isFinite));
  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  assert.ok(mean(losses.slice(-10)) < 0.9 * mean(losses.slice(0, 10)), `loss ${mean(losses.slice(0, 10))} → ${mean(losses.slice(-10))}`);
  const m = events.filter((e) => e.type === 'eval').at(-1).metrics;
  assert.ok(m.maskedAccuracy > 0 && m.maskedAccuracy <= 1);
  assert.ok(Math.abs(m.perplexity - Math.exp(m.validLoss)) < 1e-6 * m.perplexity, 'perplexity is the exp of the masked loss');
  const cfg = JSON.parse(readFileSync(join(dir, 'run', 'best', 'config.json'), 'utf8'));
  assert.equal(cfg.modelKind, 'bert');
  assert.equal(cfg.task.name, 'mlm');
});

test('mlm: a batch in which no token was chosen is not yielded (its mean loss would be 0/0 = NaN and stop the run)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-mlm-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const train = join(dir, 'toy.txt');
  writeFileSync(train, toyText());
  // One 16-token row a batch (14 choosable tokens) at 2%: about three batches in four choose nothing.
  const run = await buildTaskRun(mlmConfig('tiny', { train, validShare: 0.2, vocabSize: 60, model: { context: 16 }, maxTokens: 16, maskProb: 0.02, seed: 4 }));
  const batches = [...(run.task.batches(0, new Rng(9)) as Iterable<MlmBatch>)];
  assert.ok(batches.length > 0, 'some batch chose a token');
  for (const b of batches) {
    assert.ok(b.targets.size > 0, 'every yielded batch predicts a token');
    assert.ok(Number.isFinite(maskedLoss(run.model as BertForMaskedLM, b, 'mean').loss.item()));
  }
});
