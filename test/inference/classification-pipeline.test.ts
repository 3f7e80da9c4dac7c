// pipeline('text-classification') and pipeline('fill-mask') on toy checkpoints: HF's output shapes, probabilities
// equal to a softmax of the model's own logits computed here by hand, and errors for checkpoints that do not fit.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BertForMaskedLM, BertForSequenceClassification, ByteLevelBPE, GPT, GPTForSequenceClassification, PipelineError, WordPieceTokenizer,
  checkpointFiles, loadPretrained, pipeline, tensor,
} from '../../src/index.js';
import type { LabelScore, Module, Tokenizer } from '../../src/index.js';

const TEXTS = ['win money now', 'see you at the office', 'the report is due friday', 'money money money'];

/** A checkpoint's files for a model, its tokenizer and a task name. */
function files(kind: string, model: Module & { config: object }, tokenizer: Tokenizer, task: string, options: Record<string, unknown> = {}) {
  return checkpointFiles({ modelKind: kind, modelConfig: model.config, model, tokenizer, task: { name: task, options } });
}

/** Softmax of one row, in float64, written out: exp(x - max) / Σ exp(x - max). */
function softmaxRow(row: ArrayLike<number>): number[] {
  const xs = Array.from(row);
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

const wordPiece = () => WordPieceTokenizer.train(TEXTS, { vocabSize: 60 });

test("pipeline('text-classification'): [{ label, score }] per text, top-1 by default; topK null gives every label, summing to 1, equal to the softmax of the logits", async () => {
  const tok = wordPiece();
  const model = new BertForSequenceClassification({ vocab: tok.vocabSize, dModel: 16, heads: 2, layers: 1, dFF: 32, maxPositions: 32, labels: ['ham', 'spam', 'other'], seed: 2 });
  const classify = await pipeline('text-classification', files('bert-classifier', model, tok, 'classify'));
  const one = await classify(TEXTS[0]);
  assert.equal(one.length, 1);
  assert.deepEqual(Object.keys(one[0]).sort(), ['label', 'score']);
  // HF's shapes: an array at topK 1 gives one object per text; at another topK one list per text.
  const top1 = await classify(TEXTS);
  assert.equal(top1.length, TEXTS.length);
  for (const a of top1) assert.deepEqual(Object.keys(a).sort(), ['label', 'score']);
  assert.deepEqual((await classify(TEXTS, { topK: 2 })).map((a) => (a as unknown[]).length), TEXTS.map(() => 2));
  const all = (await classify(TEXTS, { topK: null })) as LabelScore[][];
  assert.equal(all.length, TEXTS.length);
  model.eval();
  for (const [i, text] of TEXTS.entries()) {
    const ids = [tok.bosId, ...tok.encode(text), tok.eosId];
    const logits = model.forward(tensor(Int32Array.from(ids), { shape: [1, ids.length], dtype: 'int32' })).logits.toArray();
    const want = softmaxRow(logits);
    const got = all[i];
    assert.equal(got.length, 3);
    assert.ok(Math.abs(got.reduce((s, x) => s + x.score, 0) - 1) < 1e-6);
    for (let k = 1; k < got.length; k++) assert.ok(got[k - 1].score >= got[k].score, 'most likely first');
    for (const { label, score } of got) assert.ok(Math.abs(score - want[['ham', 'spam', 'other'].indexOf(label)]) < 1e-5, `${text}: ${label}`);
    // Padding in a batch changes nothing: the top-1 answer of the batch is the text's own.
    assert.deepEqual(((await classify([text, 'a much longer text than the others so that this one pads'])) as LabelScore[])[0].label, got[0].label);
    assert.deepEqual(top1[i], got[0]);
  }
  assert.equal((await classify(TEXTS[1], { topK: 2 })).length, 2);
  await assert.rejects(classify(TEXTS[0], { topK: 0 }), (e: Error) => e instanceof PipelineError && /topK is 0, expected an integer ≥ 1 or null/.test(e.message));
  await assert.rejects(classify(TEXTS[0], { top_k: 2 } as never), /unknown option 'top_k', expected one of topK/);
});

test("pipeline('text-classification') takes a GPT classifier too (scored at the last token, padding ignored)", async () => {
  const tok = ByteLevelBPE.train(TEXTS, { vocabSize: 270 });
  const model = new GPTForSequenceClassification({ vocab: tok.vocabSize, dModel: 16, heads: 2, layers: 1, context: 32, dropout: 0, labels: ['ham', 'spam'], padId: tok.padId, seed: 1 });
  const classify = await pipeline('classify', files('gpt-classifier', model, tok, 'classify'));
  const alone = await classify(TEXTS[0], { topK: null });
  const batched = (await classify([TEXTS[0], TEXTS[1]], { topK: null })) as LabelScore[][];
  assert.ok(Math.abs(alone[0].score - batched[0][0].score) < 1e-5 && alone[0].label === batched[0][0].label);
  assert.ok(Math.abs(alone[0].score + alone[1].score - 1) < 1e-6);
});

test("pipeline('text-classification') pads a GPT classifier's rows with the model's padId, not the tokenizer's: batching changes no answer", async () => {
  const tok = ByteLevelBPE.train(TEXTS, { vocabSize: 270 });
  // A checkpoint whose config.json pad_token_id differs from the tokenizer's pad (an HF folder may say so).
  const padId = tok.padId + 100;
  const model = new GPTForSequenceClassification({ vocab: tok.vocabSize, dModel: 16, heads: 2, layers: 1, context: 64, dropout: 0, labels: ['ham', 'spam'], padId, seed: 1 });
  const classify = await pipeline('classify', files('gpt-classifier', model, tok, 'classify'));
  const alone = await classify('win', { topK: null });
  const batched = (await classify(['win', 'a much longer text than the others so that this one pads'], { topK: null })) as LabelScore[][];
  for (const { label, score } of alone) {
    const other = batched[0].find((s) => s.label === label)!;
    assert.ok(Math.abs(score - other.score) < 1e-5, `${label}: ${score} alone, ${other.score} in a batch`);
  }
});

test("pipeline('text-classification') of a checkpoint that is not a classifier is a PipelineError naming the kind and the pipeline that takes it", async () => {
  const tok = ByteLevelBPE.train(TEXTS, { vocabSize: 270 });
  const lm = new GPT({ vocab: tok.vocabSize, dModel: 16, heads: 2, layers: 1, context: 16 });
  const p = await loadPretrained(files('gpt', lm, tok, 'lm'), { source: 'runs/lm/best' });
  await assert.rejects(pipeline('text-classification', p), (e: Error) => e instanceof PipelineError &&
    e.message === "pipeline('text-classification'): runs/lm/best holds a 'gpt' model (task 'lm'), expected a sequence classifier ('bert-classifier' or 'gpt-classifier', task classify); pipeline('text-generation') takes this one");
});

test("pipeline('fill-mask'): top-k { token, tokenStr, score, sequence } per [MASK], equal to the softmax at that position; two masks give a list each", async () => {
  const tok = wordPiece();
  const model = new BertForMaskedLM({ vocab: tok.vocabSize, dModel: 16, heads: 2, layers: 1, dFF: 32, maxPositions: 32, seed: 3 });
  const fill = await pipeline('fill-mask', files('bert', model, tok, 'mlm'));
  const text = 'win [MASK] now';
  const out = (await fill(text, { topK: 4 })) as { token: number; tokenStr: string; score: number; sequence: string }[];
  assert.equal(out.length, 4);
  const ids = tok.encode(text, { addSpecial: true });
  const at = ids.indexOf(tok.maskId);
  assert.ok(at > 0, 'the literal [MASK] is the mask token');
  model.eval();
  const logits = model.forward(tensor(Int32Array.from(ids), { shape: [1, ids.length], dtype: 'int32' })).logits.toArray();
  const V = tok.vocabSize;
  const probs = softmaxRow(Array.from(logits).slice(at * V, (at + 1) * V));
  const best = probs.map((p, v) => [p, v]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 4);
  assert.deepEqual(out.map((f) => f.token), best.map(([, v]) => v));
  for (const f of out) {
    assert.ok(Math.abs(f.score - probs[f.token]) < 1e-5);
    assert.equal(f.tokenStr, tok.idToToken(f.token));
    const filled = ids.slice();
    filled[at] = f.token;
    assert.equal(f.sequence, tok.decode(filled, { skipSpecial: true }));
  }
  const every = (await fill(text, { topK: V })) as { score: number }[];
  assert.ok(Math.abs(every.reduce((s, f) => s + f.score, 0) - 1) < 1e-5);
  const two = (await fill('[MASK] money [MASK]')) as unknown[][];
  assert.equal(two.length, 2);
  assert.equal(two[0].length, 5, 'HF\'s default top_k 5');
  await assert.rejects(fill('no mask here'), (e: Error) => e instanceof PipelineError && /holds no \[MASK\], expected at least one to fill/.test(e.message));
  const clf = new BertForSequenceClassification({ vocab: tok.vocabSize, dModel: 16, heads: 2, layers: 1, dFF: 32, maxPositions: 32, labels: ['a', 'b'] });
  await assert.rejects(pipeline('fill-mask', files('bert-classifier', clf, tok, 'classify')), /holds a 'bert-classifier' model .*expected a BERT masked-LM 'bert' checkpoint \(task mlm\); pipeline\('text-classification'\) takes this one/);
});

test("pipeline('fill-mask') of a WordPiece tokenizer without a [MASK] (maskId -1) is a PipelineError saying so", async () => {
  const tok = new WordPieceTokenizer({ tokens: ['[PAD]', '[CLS]', '[SEP]', '[UNK]', 'a', 'b', '##a'], padId: 0, bosId: 1, eosId: 2, unkId: 3, specialIds: [0, 1, 2, 3] });
  assert.equal(tok.maskId, -1);
  const model = new BertForMaskedLM({ vocab: tok.vocabSize, dModel: 8, heads: 2, layers: 1, dFF: 16, maxPositions: 16 });
  await assert.rejects(pipeline('fill-mask', files('bert', model, tok, 'mlm')), (e: Error) => e instanceof PipelineError && /has no mask token, expected a WordPiece tokenizer with \[MASK\]/.test(e.message));
});
