// `qkv demo` (npm run demo): train the small G2P preset for a couple of minutes, then show what it learned.

import { join } from 'node:path';
import { formatSeconds } from '../node/progress.js';
import type { Transformer } from '../models/transformer.js';
import { pronounce } from '../inference/seq2seq.js';
import { evaluateG2P, spread, taskConfig } from '../train/tasks/index.js';
import type { G2PConfig, PresetName } from '../train/tasks/index.js';
import { UsageError } from './errors.js';
import { formatMetric } from './format.js';
import { openCheckpoint } from './open.js';
import { runTraining, stdio } from './train.js';
import type { Output } from './train.js';

/** Words not in CMUdict (or new to it), for a person to judge. */
export const DEMO_WORDS = ['TRANSFORMER', 'ATTENTION', 'PYTORCH', 'QUEUE', 'TYPESCRIPT', 'GRAPHEME'];

/** Flags of `qkv demo`. */
export interface DemoFlags {
  out: string;
  minutes?: number;
  /** Train this many steps instead of by the clock (the same model on any machine, at any load). */
  steps?: number;
  preset: PresetName;
  /** Test words scored with beam search after training. */
  limit: number;
}

/**
 * Trains G2P from scratch into `out` (its best/ and last/ are replaced), scores the last
 * checkpoint on a spread of test words with beam 4, and prints pronunciations next to the
 * dictionary's.
 */
export async function demoCommand(flags: DemoFlags, io: Output = stdio): Promise<void> {
  const t0 = performance.now();
  if (flags.steps !== undefined && flags.minutes !== undefined) throw new UsageError('qkv demo: --steps and --minutes both given, expected one of them');
  const config = taskConfig('g2p', flags.preset, flags.steps !== undefined ? { maxMinutes: null, maxSteps: flags.steps } : {}) as G2PConfig;
  const limits = flags.steps !== undefined ? { maxSteps: flags.steps } : flags.minutes !== undefined ? { maxMinutes: flags.minutes } : {};
  const budget = flags.steps !== undefined ? `${flags.steps} steps` : `${flags.minutes ?? config.maxMinutes ?? '?'} min`;
  io.out(`qkv demo: teaching a Transformer to pronounce English spelling (CMUdict), preset ${flags.preset}, ${budget} of training`);
  await runTraining({ config, out: flags.out, limits, overwrite: true }, io); // limits: so the end line says --minutes / --steps

  const ck = await openCheckpoint<Transformer>(join(flags.out, 'last'), { kind: 'transformer', needTokenizer: true });
  const t1 = performance.now();
  const { metrics, examples } = await evaluateG2P(ck, config, { split: 'test', limit: flags.limit, beam: config.beam });
  io.out('');
  io.out(`test words never seen in training (${metrics.words}, beam ${config.beam}, ${((performance.now() - t1) / 1000).toFixed(0)} s): ` +
    `word error rate ${formatMetric('wer', metrics.wer)}, phoneme error rate ${formatMetric('per', metrics.per)}`);
  io.out('');
  const shown = spread(examples, 8);
  const width = Math.max(...[...shown.map((e) => e.word), ...DEMO_WORDS].map((w) => w.length));
  io.out(`${'word'.padEnd(width)}  model says  |  dictionary says`);
  for (const e of shown) {
    const ok = e.references.includes(e.hypothesis) ? '✓' : '✗';
    io.out(`${e.word.padEnd(width)}  ${ok} ${e.hypothesis}  |  ${e.references.join(' / ')}`);
  }
  io.out('');
  io.out(`${'word'.padEnd(width)}  model says (not in the dictionary's test split; judge for yourself)`);
  const mine = pronounce(ck, DEMO_WORDS, { numBeams: config.beam, lengthPenalty: config.lengthPenalty });
  DEMO_WORDS.forEach((w, i) => io.out(`${w.padEnd(width)}  ${mine[i]}`));
  io.out('');
  io.out(`total ${formatSeconds((performance.now() - t0) / 1000)}. Try: npx qkv g2p ${join(flags.out, 'last')} YOURWORD   |   npx qkv eval ${flags.out} --limit 1000`);
}
