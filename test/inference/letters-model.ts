// A tiny encoder-decoder trained in a few seconds to spell words letter by letter: 'HELLO' → 'H E L L O'.
// Saved as a g2p checkpoint (characters in, symbols out), so every seq2seq pipeline has an exact known answer.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Adam, CharTokenizer, LrScheduler, PAPER_ADAM, Rng, SymbolTokenizer, Transformer, clipGradNorm, cosineSchedule, crossEntropy,
  padSequences, saveCheckpoint, tensor,
} from '../../src/node/index.js';
import type { Tensor } from '../../src/node/index.js';

/** The alphabet of the words: enough for HELLO, WORLD and more. */
export const LETTERS = 'DEHLORW';

/** A random word of 1..8 letters. */
export function randomWord(rng: Rng): string {
  const n = 1 + rng.int(8);
  return Array.from({ length: n }, () => LETTERS[rng.int(LETTERS.length)]).join('');
}

/** Its spelling, the model's exact answer: 'HELLO' → 'H E L L O'. */
export const spell = (w: string): string => w.split('').join(' ');

export interface LettersModel {
  dir: string;
  model: Transformer;
  tokenizer: CharTokenizer;
  targetTokenizer: SymbolTokenizer;
  /** Training steps taken. */
  steps: number;
}

function ids(rows: number[][], pad: number): { t: Tensor; mask: Tensor } {
  const p = padSequences(rows, pad);
  return {
    t: tensor(p.ids, { shape: [p.rows, p.width], dtype: 'int32' }),
    mask: tensor(p.mask, { shape: [p.rows, p.width], dtype: 'int32' }),
  };
}

/**
 * Trains the speller (batch 32, cosine schedule, no dropout) and saves it with its tokenizers as
 * task 'g2p' (beam 2 recorded as its default) in a temporary folder removed at exit.
 */
export async function trainLettersModel(steps = 600, seed = 1, task = 'g2p'): Promise<LettersModel> {
  const tokenizer = CharTokenizer.fromChars(LETTERS.split(''));
  const targetTokenizer = SymbolTokenizer.fromSymbols(LETTERS.split(''));
  const model = new Transformer({
    srcVocab: tokenizer.vocabSize, tgtVocab: targetTokenizer.vocabSize, dModel: 32, heads: 4, dFF: 64,
    encoderLayers: 2, decoderLayers: 2, dropout: 0, maxLen: 64, seed,
  });
  const optim = new Adam(model.parameters(), { lr: 0, ...PAPER_ADAM });
  const schedule = new LrScheduler(optim, cosineSchedule({ baseLr: 3e-3, warmup: 60, totalSteps: steps, minLr: 0 }));
  const rng = new Rng(seed + 7);
  const { padId, bosId, eosId } = targetTokenizer;
  for (let step = 1; step <= steps; step++) {
    model.train();
    const words = Array.from({ length: 32 }, () => randomWord(rng));
    const src = ids(words.map((w) => tokenizer.encode(w)), padId);
    const tgt = words.map((w) => [bosId, ...targetTokenizer.encode(spell(w)), eosId]);
    const tgtIn = ids(tgt.map((r) => r.slice(0, -1)), padId);
    const tgtOut = ids(tgt.map((r) => r.slice(1)), padId);
    const { logits } = model.forward(src.t, tgtIn.t, { srcPaddingMask: src.mask, tgtPaddingMask: tgtIn.mask }); // [B, T, V]
    const loss = crossEntropy(logits.reshape([-1, targetTokenizer.vocabSize]), tgtOut.t.reshape([-1]), { ignoreIndex: padId });
    optim.zeroGrad();
    loss.backward();
    clipGradNorm(model.parameters(), 1);
    schedule.step();
    optim.step();
  }
  model.eval();
  const dir = mkdtempSync(join(tmpdir(), 'qkv-letters-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  await saveCheckpoint(join(dir, 'best'), {
    modelKind: 'transformer', modelConfig: model.config, model, tokenizer, targetTokenizer,
    task: { name: task, options: { beam: 2, lengthPenalty: 0.6 } },
  });
  return { dir, model, tokenizer, targetTokenizer, steps };
}
