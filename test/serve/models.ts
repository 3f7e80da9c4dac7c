// Tiny checkpoints for the server's tests, built in a second (no training): a GPT, a g2p encoder-decoder, a GPT classifier.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ByteLevelBPE, CharTokenizer, GPT, GPTForSequenceClassification, Rng, SymbolTokenizer, Transformer, noGrad, randn, saveCheckpoint,
} from '../../src/node/index.js';
import type { Tensor, Tokenizer } from '../../src/node/index.js';

const CORPUS = ['the cat sat on the mat. the dog sat on the log. a bird flew over the old barn and the river ran on.'.repeat(3)];

export interface TinyModels {
  dir: string;
  gpt: string;
  g2p: string;
  classifier: string;
  gptModel: GPT;
  tokenizer: Tokenizer;
}

/** Weights large enough that next-token distributions are far from uniform (so greedy tokens are not near ties). */
function sharpen(params: Tensor[], seed: number): void {
  const rng = new Rng(seed);
  noGrad(() => { for (const p of params) if (p.ndim === 2) p.assign(randn(p.shape, rng, { std: 0.3 })); });
}

/**
 * Writes the three checkpoints to a temporary folder removed at exit: `gpt` (byte-level BPE, 2 blocks of d 32,
 * context `context`), `g2p` (letters in, symbols out, task g2p) and `classifier` (a GPT classifier, ham/spam).
 */
export async function tinyModels(context = 64): Promise<TinyModels> {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-serve-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const tokenizer = ByteLevelBPE.train(CORPUS, { vocabSize: 290 });
  const gptModel = new GPT({ vocab: tokenizer.vocabSize, dModel: 32, heads: 4, layers: 2, context, dropout: 0, seed: 3 });
  sharpen(gptModel.parameters(), 4);
  gptModel.eval();
  const gpt = join(dir, 'tiny-gpt');
  await saveCheckpoint(gpt, { modelKind: 'gpt', modelConfig: gptModel.config, model: gptModel, tokenizer, task: { name: 'lm', options: {} } });

  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');
  const src = CharTokenizer.fromChars(letters);
  const tgt = SymbolTokenizer.fromSymbols(['AA', 'AE', 'B', 'K', 'D', 'EH', 'F', 'G', 'HH', 'IY', 'L', 'M', 'N', 'OW', 'P', 'R', 'S', 'T']);
  const s2s = new Transformer({ srcVocab: src.vocabSize, tgtVocab: tgt.vocabSize, dModel: 16, heads: 2, dFF: 32, encoderLayers: 1, decoderLayers: 1, dropout: 0, maxLen: 32, seed: 5 });
  sharpen(s2s.parameters(), 6);
  const g2p = join(dir, 'tiny-g2p');
  await saveCheckpoint(g2p, { modelKind: 'transformer', modelConfig: s2s.config, model: s2s, tokenizer: src, targetTokenizer: tgt, task: { name: 'g2p', options: { beam: 2, lengthPenalty: 0.6 } } });

  const clf = new GPTForSequenceClassification({ vocab: tokenizer.vocabSize, dModel: 16, heads: 2, layers: 1, context: 64, dropout: 0, labels: ['ham', 'spam'], padId: tokenizer.padId, seed: 7 });
  const classifier = join(dir, 'tiny-clf');
  await saveCheckpoint(classifier, { modelKind: 'gpt-classifier', modelConfig: clf.config, model: clf, tokenizer, task: { name: 'classify', options: {} } });
  return { dir, gpt, g2p, classifier, gptModel, tokenizer };
}

/**
 * A GPT slow enough that a few continuations of 1,000 tokens stay in flight for a while (d 128, 4 blocks, context
 * 1,024), written next to the tiny ones: for tests that need slots and queues to be full.
 */
export async function slowGpt(t: TinyModels): Promise<string> {
  const model = new GPT({ vocab: t.tokenizer.vocabSize, dModel: 128, heads: 4, layers: 4, context: 1024, dropout: 0, seed: 9 });
  sharpen(model.parameters(), 10);
  const dir = join(t.dir, 'slow-gpt');
  await saveCheckpoint(dir, { modelKind: 'gpt', modelConfig: model.config, model, tokenizer: t.tokenizer, task: { name: 'lm', options: {} } });
  return dir;
}
