// Scores the PyTorch twin's output with qkv's own metrics (WER/PER, BLEU/chrF, perplexity/bpc), as `qkv eval` does.

import { g2pErrorRates } from '../../src/train/metrics/edit-distance.js';
import { corpusBleu } from '../../src/train/metrics/bleu.js';
import { corpusChrf } from '../../src/train/metrics/chrf.js';
import { bitsPerCharacter, perplexity } from '../../src/train/metrics/loss.js';
import type { Tokenizer } from '../../src/tokenizers/tokenizer.js';

/** One line of the twin's hypotheses.jsonl. */
export interface TwinHypothesis {
  ids: number[];
  text: string;
}

/** One line of the export's test.jsonl (only refs matter here). */
export interface TwinTestExample {
  refs: string[];
}

const phonemes = (s: string): string[] => s.split(' ').filter((x) => x);

/**
 * The metrics `qkv eval` prints for g2p (wer, per, words) or translate (bleu, chrf, sentences),
 * of hypothesis texts against the test split's references.
 *
 * @example
 * scoreSeq2Seq('g2p', ['K AE1 T'], [{ refs: ['K AE1 T'] }]); // { wer: 0, per: 0, words: 1 }
 */
export function scoreSeq2Seq(task: 'g2p' | 'translate', hyps: readonly string[], test: readonly TwinTestExample[]): Record<string, number> {
  if (hyps.length !== test.length) throw new Error(`${hyps.length} hypotheses for ${test.length} test examples; expected one each`);
  if (task === 'g2p') {
    const r = g2pErrorRates(hyps.map(phonemes), test.map((e) => e.refs.map(phonemes)));
    return { wer: r.wer, per: r.per, words: r.words };
  }
  const refs = [test.map((e) => e.refs[0])];
  return { bleu: corpusBleu(hyps, refs).score, chrf: corpusChrf(hyps, refs).score, sentences: hyps.length };
}

/**
 * The metrics `qkv eval` prints for lm (loss, perplexity, bpc, tokens) from the twin's summed test NLL.
 *
 * @example
 * scoreLm({ nll: 2 * Math.LN2, tokens: 2 }, 4, 3); // { loss: 0.693…, perplexity: 2, bpc: 0.5, tokens: 3 }
 */
export function scoreLm(test: { nll: number; tokens: number }, characters: number, streamTokens: number): Record<string, number> {
  return {
    loss: test.nll / test.tokens, perplexity: perplexity(test.nll, test.tokens), bpc: bitsPerCharacter(test.nll, characters), tokens: streamTokens,
  };
}

/** Indices of hypotheses whose text differs from qkv's own decoding of their ids (the Python decoder's check). */
export function decodeMismatches(hyps: readonly TwinHypothesis[], tok: Tokenizer): number[] {
  const out: number[] = [];
  hyps.forEach((h, i) => {
    if (tok.decode(h.ids, { skipSpecial: true }) !== h.text) out.push(i);
  });
  return out;
}
