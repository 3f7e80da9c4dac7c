// Fine-tuning pieces: weights loaded into a model with a larger vocabulary (old rows exact, new rows
// as a fresh model's), reused tokenizers checked or grown against new data, and the plan's checks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ByteLevelBPE, CharTokenizer, CheckpointError, GPT, SymbolTokenizer, Transformer, checkpointFiles, readCheckpoint,
} from '../../src/index.js';
import { FineTuneError, initFromCheckpoint, loadInitialWeights, reusedTokenizer, seq2seqConfig, taskConfig } from '../../src/train/tasks/index.js';
import type { Module, Tokenizer } from '../../src/index.js';

const SMALL = { dModel: 8, heads: 2, dFF: 16, encoderLayers: 1, decoderLayers: 1, dropout: 0 };

/** Rows [from, to) of a 2-D tensor's values. */
function rows(m: Module, name: string, from: number, to: number): number[] {
  const t = m.stateDict().get(name)!;
  const D = t.shape[1] ?? 1;
  return Array.from(t.toArray()).slice(from * D, to * D);
}

test('loadInitialWeights: embedding and output rows of a grown vocabulary keep the old values exactly; new rows stay as initialised', () => {
  const old = new Transformer({ srcVocab: 10, tgtVocab: 12, ...SMALL, seed: 3 });
  const fresh = new Transformer({ srcVocab: 13, tgtVocab: 14, ...SMALL, seed: 5 });
  const before = new Map([...fresh.stateDict()].map(([k, t]) => [k, Array.from(t.toArray())]));
  const grown = loadInitialWeights(fresh, old.stateDict(), 'old/model.safetensors');
  assert.deepEqual(grown.sort(), [
    'generator.bias: 12 → 14 rows', 'generator.weight: 12 → 14 rows', 'src_embed.weight: 10 → 13 rows', 'tgt_embed.weight: 12 → 14 rows',
  ]);
  assert.deepEqual(rows(fresh, 'src_embed.weight', 0, 10), rows(old, 'src_embed.weight', 0, 10));
  assert.deepEqual(rows(fresh, 'src_embed.weight', 10, 13), before.get('src_embed.weight')!.slice(10 * 8, 13 * 8));
  assert.deepEqual(rows(fresh, 'generator.bias', 0, 12), rows(old, 'generator.bias', 0, 12));
  assert.deepEqual(rows(fresh, 'generator.bias', 12, 14), before.get('generator.bias')!.slice(12, 14));
  for (const [name, t] of old.stateDict()) {
    if (/embed|generator/.test(name)) continue;
    assert.deepEqual(Array.from(fresh.stateDict().get(name)!.toArray()), Array.from(t.toArray()), name);
  }
});

test('loadInitialWeights: a tied GPT embedding grows once for both names; any other shape difference is the loader\'s error', () => {
  const cfg = { dModel: 8, heads: 2, layers: 1, context: 8, dropout: 0 };
  const old = new GPT({ vocab: 20, ...cfg, seed: 1 });
  const fresh = new GPT({ vocab: 23, ...cfg, seed: 2 });
  const tail = rows(fresh, 'wte.weight', 20, 23);
  loadInitialWeights(fresh, old.stateDict(), 'old');
  assert.equal(fresh.wte.weight, fresh.lmHead.weight);
  assert.deepEqual(rows(fresh, 'wte.weight', 0, 20), rows(old, 'wte.weight', 0, 20));
  assert.deepEqual(rows(fresh, 'wte.weight', 20, 23), tail);
  const wider = new GPT({ vocab: 20, ...cfg, dModel: 16, seed: 1 });
  assert.throws(() => loadInitialWeights(wider, old.stateDict(), 'old/model.safetensors'), (e: Error) => e instanceof CheckpointError && /^old\/model\.safetensors: .*shape/.test(e.message));
  const shrunk = new GPT({ vocab: 18, ...cfg, seed: 1 });
  assert.throws(() => loadInitialWeights(shrunk, old.stateDict(), 'old'), CheckpointError);
});

test('reusedTokenizer: unknown symbols are an error naming the checkpoint, side, tokenizer, data and symbols; extend appends them sorted', () => {
  const tok = CharTokenizer.fromCorpus(['abc']);
  const reuse = { tokenizer: tok, source: 'runs/old/best' };
  const check = reusedTokenizer(tok, 'source', { ...reuse, newSymbols: 'error' }, 'new.tsv');
  check.add('cab');
  check.add('çaé');
  assert.throws(() => check.finish(), (e: Error) => e instanceof FineTuneError &&
    e.message.startsWith('runs/old/best: its source tokenizer (CharTokenizer, 7 tokens) has no token for 2 characters of new.tsv: "ç", "é"; '));
  const grow = reusedTokenizer(tok, 'source', { ...reuse, newSymbols: 'extend' }, 'new.tsv');
  grow.add('éaç');
  const grown = grow.finish();
  assert.deepEqual([7, 8].map((id) => grown.idToToken(id)), ['ç', 'é']);
  assert.deepEqual(grown.encode('abc'), tok.encode('abc'));
  const same = reusedTokenizer(tok, 'source', reuse, 'new.tsv');
  same.add('zzz');
  assert.equal(same.finish(), tok, 'without newSymbols the tokenizer is used as it is (resume)');
  const sym = SymbolTokenizer.fromCorpus(['K AE1 T']);
  const s = reusedTokenizer(sym, 'target', { tokenizer: sym, newSymbols: 'error' }, 'new.tsv');
  s.add('K ZH');
  assert.throws(() => s.finish(), /its target tokenizer \(SymbolTokenizer, 7 tokens\) has no token for 1 symbol of new\.tsv: "ZH"/);
  const bpe = ByteLevelBPE.train(['abc'], { vocabSize: 260 });
  const b = reusedTokenizer(bpe, 'shared', { tokenizer: bpe, newSymbols: 'error' }, 'new.tsv');
  b.add('ünïcode 🙂');
  assert.equal(b.finish(), bpe, 'byte-level BPE encodes everything');
});

/** A checkpoint (parsed back) of a fresh model. */
function checkpoint(modelKind: 'transformer' | 'gpt', model: Module & { config: object }, tokenizer: Tokenizer, targetTokenizer: Tokenizer | null, task: string) {
  const files = checkpointFiles({ modelKind, modelConfig: model.config, model, tokenizer, targetTokenizer, task: { name: task, options: {} } });
  return readCheckpoint(new Map(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v])), { source: 'runs/old/best' });
}

test('initFromCheckpoint: the model fields and tokenizer kinds come from the checkpoint; the notes say so', () => {
  const src = CharTokenizer.fromCorpus(['abc']);
  const tgt = SymbolTokenizer.fromCorpus(['K AE1 T']);
  const model = new Transformer({ srcVocab: src.vocabSize, tgtVocab: tgt.vocabSize, ...SMALL, dModel: 16, seed: 1 });
  const ck = checkpoint('transformer', model, src, tgt, 'my-g2p');
  const plan = initFromCheckpoint(seq2seqConfig('tiny', { train: 'x.tsv', sourceTokenizer: 'bpe' }), ck, { resizeVocab: false });
  const c = plan.config as ReturnType<typeof seq2seqConfig>;
  assert.deepEqual(c.model, { architecture: 'transformer', dModel: 16, heads: 2, encoderLayers: 1, decoderLayers: 1, dFF: 16, dropout: 0 });
  assert.equal(c.sourceTokenizer, 'char');
  assert.equal(c.targetTokenizer, 'symbol');
  assert.equal(c.sharedVocab, false);
  assert.equal(plan.reuse.newSymbols, 'error');
  assert.equal(plan.reuse.tokenizer.vocabSize, src.vocabSize);
  assert.equal(plan.reuse.targetTokenizer!.vocabSize, tgt.vocabSize);
  assert.match(plan.notes.join('\n'), /fine-tuning from runs\/old\/best \(transformer, task 'my-g2p'\)/);
  assert.match(plan.notes.join('\n'), /model from the checkpoint, not the preset: dModel 16, .*\(preset's dModel 32 → 16, dFF 64 → 16, dropout 0\.1 → 0\)/);
  assert.equal(initFromCheckpoint(seq2seqConfig('tiny', { train: 'x.tsv' }), ck, { resizeVocab: true }).reuse.newSymbols, 'extend');
  const bpe = ByteLevelBPE.train(['abc abd'], { vocabSize: 270 });
  const shared = new Transformer({ srcVocab: bpe.vocabSize, tgtVocab: bpe.vocabSize, ...SMALL, shareEmbeddings: true, seed: 1 });
  const s = initFromCheckpoint(seq2seqConfig('tiny', { train: 'x.tsv' }), checkpoint('transformer', shared, bpe, null, 'translate'), { resizeVocab: false }).config as ReturnType<typeof seq2seqConfig>;
  assert.deepEqual([s.sourceTokenizer, s.targetTokenizer, s.sharedVocab, s.vocabSize], ['bpe', 'bpe', true, bpe.vocabSize]);
});

test('initFromCheckpoint: another model kind, or separate tokenizers for translate, is an error naming both sides', () => {
  const tok = CharTokenizer.fromCorpus(['abc']);
  const gpt = new GPT({ vocab: tok.vocabSize, dModel: 8, heads: 2, layers: 1, context: 8, seed: 1 });
  const ckGpt = checkpoint('gpt', gpt, tok, null, 'lm');
  assert.throws(() => initFromCheckpoint(seq2seqConfig('tiny', { train: 'x.tsv' }), ckGpt, { resizeVocab: false }), (e: Error) => e instanceof FineTuneError &&
    e.message === "runs/old/best: a gpt model (a decoder-only language model, task 'lm'), but task seq2seq trains a transformer (an encoder-decoder); start from a transformer checkpoint");
  const tgt = SymbolTokenizer.fromCorpus(['K AE1 T']);
  const t = new Transformer({ srcVocab: tok.vocabSize, tgtVocab: tgt.vocabSize, ...SMALL, seed: 1 });
  const ckT = checkpoint('transformer', t, tok, tgt, 'g2p');
  assert.throws(() => initFromCheckpoint(taskConfig('lm', 'tiny'), ckT, { resizeVocab: false }), /a transformer model \(an encoder-decoder, task 'g2p'\), but task lm trains a gpt/);
  assert.throws(() => initFromCheckpoint(taskConfig('translate', 'tiny'), ckT, { resizeVocab: false }), /separate source and target tokenizers \(CharTokenizer, SymbolTokenizer\), but task translate uses one shared vocabulary/);
});
