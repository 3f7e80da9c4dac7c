// The seq2seq recipe: your own (source, target) pairs from a TSV or JSONL file, with an encoder-decoder (the Transformer, or the LSTM baseline).

import { ArgumentError } from '../../core/errors.js';
import type { PairBatch, SeqPair } from '../../data/batching.js';
import { pairBatches, pairLength } from '../../data/batching.js';
import type { ReadProgress } from '../../data/load.js';
import { readPairs, splitOfRow } from '../../data/user-data.js';
import { BadRows } from '../../data/user-files.js';
import type { TextPair } from '../../data/user-files.js';
import type { EncoderDecoder } from '../../inference/model.js';
import { tokenizerBuilder } from '../../tokenizers/builder.js';
import type { TokenizerBuilder, TokenizerKind } from '../../tokenizers/builder.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import { corpusBleu } from '../metrics/bleu.js';
import { corpusChrf } from '../metrics/chrf.js';
import { g2pErrorRates } from '../metrics/edit-distance.js';
import { SAFETY_DEFAULTS, overrideConfig, spread, trainerOptions } from './config.js';
import { SEQ2SEQ_FIELDS, checkFields } from './config-schema.js';
import type { PresetName, TrainingConfig } from './config.js';
import type { Seq2SeqModelConfig } from './g2p.js';
import { encoderDecoderFor, reusedTokenizer } from './reuse.js';
import type { BuildOptions, EvaluateOptions, ReuseTokenizers, TaskRun, TrainedModel } from './run.js';
import { decodeAll, seq2seqLoss, seq2seqValidLoss } from './seq2seq.js';

/** A seq2seq run's config (the checkpoint's task options). */
export interface Seq2SeqConfig extends TrainingConfig {
  task: 'seq2seq';
  model: Seq2SeqModelConfig;
  /** The file of training pairs: TSV `source<TAB>target` or JSON Lines (an absolute path in a checkpoint). */
  train: string | null;
  /** A file of valid pairs; null: the hashed hold-out of `train` (see validShare). */
  valid: string | null;
  /** Skip and count bad rows instead of stopping at the first. */
  skipBadRows: boolean;
  /** Without a valid file: the share of `train`'s sources held out, by FNV-1a hash of the source. */
  validShare: number;
  /** 'char', 'symbol' (whitespace-separated symbols) or 'bpe' (byte-level BPE of vocabSize). */
  sourceTokenizer: string;
  targetTokenizer: string;
  /** One tokenizer learned on both sides and one embedding matrix for both (needs the same tokenizer kinds). */
  sharedVocab: boolean;
  /** Size of each BPE vocabulary (special tokens and the 256 bytes included). */
  vocabSize: number;
  /** Train on the first this many training pairs of the file (null: all). */
  maxTrainExamples: number | null;
  /** Pairs longer than this many tokens on either side are left out (train and valid); also the most tokens decoded. */
  maxLength: number;
  /** Valid sources decoded greedily at each evaluation (exact match, character error rate, BLEU, chrF). */
  evalExamples: number;
  /** Valid pairs whose loss is computed at each evaluation. */
  evalLossExamples: number;
  /** Beam size of the evaluations during training (1: greedy). */
  evalBeam: number;
  /** Beam size of `qkv eval` and `qkv seq2seq`. */
  beam: number;
  /** α of the beam's length penalty. */
  lengthPenalty: number;
}

const COMMON = {
  task: 'seq2seq' as const, labelSmoothing: 0.1, clipGradNorm: 1, decay: 'rsqrt' as const, cooldown: null, patience: null, seed: 1, workers: 1, ...SAFETY_DEFAULTS,
  train: null, valid: null, skipBadRows: false, validShare: 0.05, sourceTokenizer: 'char', targetTokenizer: 'char', sharedVocab: false,
  maxTrainExamples: null, evalBeam: 1, beam: 4, lengthPenalty: 0.6,
};

/** tiny: seconds, for tests. small: a few minutes (G2P-sized). base: about an hour on 2 cores. */
export const SEQ2SEQ_PRESETS: Record<PresetName, Seq2SeqConfig> = {
  tiny: {
    ...COMMON, preset: 'tiny', model: { architecture: 'transformer', dModel: 32, heads: 2, encoderLayers: 1, decoderLayers: 1, dFF: 64, dropout: 0.1 },
    vocabSize: 300, maxLength: 64, maxTokens: 400, warmup: 10, lrFactor: 1, maxSteps: 12, maxMinutes: null, evalEvery: 6, evalExamples: 16, evalLossExamples: 200,
  },
  small: {
    ...COMMON, preset: 'small', model: { architecture: 'transformer', dModel: 64, heads: 4, encoderLayers: 2, decoderLayers: 2, dFF: 256, dropout: 0 },
    vocabSize: 2000, maxLength: 128, maxTokens: 1200, warmup: 150, lrFactor: 1, decay: 'none', cooldown: 1, maxSteps: 100_000, maxMinutes: 3,
    evalEvery: 100, evalExamples: 200, evalLossExamples: 2000,
  },
  base: {
    ...COMMON, preset: 'base', model: { architecture: 'transformer', dModel: 128, heads: 4, encoderLayers: 3, decoderLayers: 3, dFF: 512, dropout: 0 },
    vocabSize: 8000, maxLength: 128, maxTokens: 1500, warmup: 400, lrFactor: 0.6, decay: 'none', cooldown: 1, maxSteps: 100_000, maxMinutes: 60,
    evalEvery: 500, evalExamples: 500, evalLossExamples: 5000,
  },
};

/**
 * A seq2seq config: a preset with fields overridden (see overrideConfig), and its choices checked.
 *
 * @example
 * const c = seq2seqConfig('small', { train: 'pairs.tsv', targetTokenizer: 'symbol' });
 */
export function seq2seqConfig(preset: PresetName, overrides: Record<string, unknown> = {}): Seq2SeqConfig {
  return checkFields(SEQ2SEQ_FIELDS, overrideConfig(SEQ2SEQ_PRESETS[preset], overrides, 'seq2seq'));
}

/** A source and every target the data gives it (a source may have several, as a word its pronunciations). */
export interface PairGroup {
  source: string;
  references: string[];
}

/** Pairs grouped by source, in the order sources first appear. */
export function groupPairs(pairs: Iterable<TextPair>): PairGroup[] {
  const bySource = new Map<string, string[]>();
  for (const p of pairs) {
    const refs = bySource.get(p.source);
    if (refs) refs.push(p.target);
    else bySource.set(p.source, [p.target]);
  }
  return [...bySource].map(([source, references]) => ({ source, references }));
}

/** What a seq2seq run reads from its files. */
interface Seq2SeqData {
  tokenizer: Tokenizer;
  targetTokenizer: Tokenizer;
  train: SeqPair[];
  /** Valid pairs as text. */
  valid: TextPair[];
  /** Training pairs read, and those left out for their length. */
  read: number;
  tooLong: number;
  notes: string[];
}

function requireTrain(c: Seq2SeqConfig): string {
  if (typeof c.train !== 'string') throw new ArgumentError("task seq2seq needs a file of training pairs: config field 'train' is null, expected a path (qkv train seq2seq --train pairs.tsv)");
  return c.train;
}

/** Reads the files: pass 1 learns (or checks) the tokenizers on the training pairs, pass 2 encodes them. */
async function readSeq2seqData(c: Seq2SeqConfig, reuse: ReuseTokenizers | undefined, onProgress?: (p: ReadProgress) => void): Promise<Seq2SeqData> {
  const path = requireTrain(c);
  const split = { validFile: c.valid !== null, validShare: c.validShare };
  const limit = c.maxTrainExamples ?? Infinity;
  const valid: TextPair[] = [];
  let bad = new BadRows(c.skipBadRows);

  let src: TokenizerBuilder | null = null;
  let tgt: TokenizerBuilder | null = null;
  if (reuse) {
    const shared = !reuse.targetTokenizer || reuse.targetTokenizer === reuse.tokenizer;
    src = reusedTokenizer(reuse.tokenizer, shared ? 'shared' : 'source', reuse, path);
    tgt = shared ? src : reusedTokenizer(reuse.targetTokenizer!, 'target', reuse, path);
    if (!reuse.newSymbols) src = tgt = null; // nothing to check: no first pass
  } else {
    src = tokenizerBuilder(c.sourceTokenizer as TokenizerKind, { vocabSize: c.vocabSize });
    tgt = c.sharedVocab ? src : tokenizerBuilder(c.targetTokenizer as TokenizerKind, { vocabSize: c.vocabSize });
  }
  let tokenizer = reuse?.tokenizer;
  let targetTokenizer = reuse?.targetTokenizer ?? reuse?.tokenizer;
  if (src && tgt) {
    let n = 0;
    for await (const p of readPairs(path, { badRows: bad, onProgress })) {
      if (splitOfRow(p.source, split) === 'valid') { valid.push(p); continue; }
      if (n++ >= limit) continue;
      src.add(p.source);
      tgt.add(p.target);
    }
    tokenizer = src.finish();
    targetTokenizer = tgt === src ? tokenizer : tgt.finish();
    bad = new BadRows(c.skipBadRows); // pass 2 meets the same bad rows again
  }
  const firstPass = src !== null;
  const train: SeqPair[] = [];
  let read = 0;
  let tooLong = 0;
  for await (const p of readPairs(path, { badRows: bad, onProgress })) {
    if (splitOfRow(p.source, split) === 'valid') { if (!firstPass) valid.push(p); continue; }
    if (read >= limit) continue;
    read++;
    const pair = { src: tokenizer!.encode(p.source), tgt: targetTokenizer!.encode(p.target) };
    if (fits(pair, c)) train.push(pair);
    else tooLong++;
  }
  const notes = [bad.summary()].filter((n): n is string => n !== null);
  if (c.valid !== null) {
    const validBad = new BadRows(c.skipBadRows);
    for await (const p of readPairs(c.valid, { badRows: validBad, onProgress })) valid.push(p);
    const s = validBad.summary();
    if (s) notes.push(s);
  }
  if (train.length === 0) throw new ArgumentError(`${path}: no training pairs (${read} read, ${tooLong} longer than maxLength ${c.maxLength} or maxTokens ${c.maxTokens}), expected at least one`);
  if (valid.length === 0) {
    throw new ArgumentError(c.valid !== null
      ? `${c.valid}: no valid pairs, expected at least one`
      : `${path}: the hashed hold-out (validShare ${c.validShare}) kept none of its ${read} pairs for validation; pass a valid file (--valid) or a larger validShare`);
  }
  return { tokenizer: tokenizer!, targetTokenizer: targetTokenizer!, train, valid, read, tooLong, notes };
}

/** A pair the run can train on: both sides at most maxLength tokens, the source not empty, within the token budget. */
function fits(p: SeqPair, c: Pick<Seq2SeqConfig, 'maxLength' | 'maxTokens'>): boolean {
  return p.src.length > 0 && p.src.length <= c.maxLength && p.tgt.length <= c.maxLength && pairLength(p) <= c.maxTokens;
}

const describeTok = (t: Tokenizer): string => `${t.constructor.name} ${t.vocabSize}`;

/**
 * Builds a seq2seq run: reads the training pairs (a stream, twice: once for the tokenizers, once
 * to encode), holds out valid pairs by hash of the source (or reads the valid file), and makes the
 * task: token-budget batches, the label-smoothed loss, and an evaluation with the valid loss and,
 * on `evalExamples` fixed valid sources decoded greedily, exact match, character error rate, BLEU
 * and chrF (a source with several targets is right when it matches any).
 *
 * @example
 * const run = await seq2seqTask(seq2seqConfig('tiny', { train: 'pairs.tsv' }));
 * await new Trainer(run.model, run.task, run.trainer).run();
 */
export async function seq2seqTask(c: Seq2SeqConfig, reuse?: ReuseTokenizers, o: BuildOptions = {}): Promise<TaskRun<EncoderDecoder, PairBatch>> {
  const d = await readSeq2seqData(c, reuse, o.onProgress);
  const { tokenizer, targetTokenizer } = d;
  const shared = tokenizer === targetTokenizer;
  if (tokenizer.padId !== targetTokenizer.padId) throw new ArgumentError(`seq2seq: the source tokenizer's <pad> is id ${tokenizer.padId} and the target's ${targetTokenizer.padId}, expected one id (batches pad both sides alike)`);
  const sp = { padId: targetTokenizer.padId, bosId: targetTokenizer.bosId, eosId: targetTokenizer.eosId };
  const validPairs = spread(d.valid.map((p) => ({ src: tokenizer.encode(p.source), tgt: targetTokenizer.encode(p.target) })).filter((p) => fits(p, { maxLength: c.maxLength, maxTokens: Infinity })), c.evalLossExamples);
  const validTokens = Math.max(c.maxTokens, ...validPairs.map(pairLength));
  const groups = groupPairs(d.valid);
  const evalGroups = spread(groups, c.evalExamples);
  const { model, modelKind } = encoderDecoderFor(reuse, c.model, {
    srcVocab: tokenizer.vocabSize, tgtVocab: targetTokenizer.vocabSize, shareEmbeddings: shared, maxLen: Math.max(256, c.maxLength + 2), seed: c.seed,
  });
  const decoding = { beam: c.evalBeam, lengthPenalty: c.lengthPenalty, maxLength: c.maxLength };
  const heldOut = c.valid !== null ? `valid ${c.valid}` : `${groups.length} valid sources held out by hash`;
  const left = d.tooLong ? ` (${d.tooLong} longer than maxLength ${c.maxLength} left out)` : '';
  const toks = shared ? `shared ${describeTok(tokenizer)}` : `source ${describeTok(tokenizer)}, target ${describeTok(targetTokenizer)}`;
  return {
    task: {
      name: 'seq2seq',
      options: c as unknown as Record<string, unknown>,
      batches: (_epoch, rng) => pairBatches(d.train, { ...sp, maxTokens: c.maxTokens, rng }),
      loss: (m, b) => seq2seqLoss(m, b, sp, c.labelSmoothing),
      evaluate: (m) => {
        const validLoss = seq2seqValidLoss(m, validPairs, sp, validTokens);
        return { validLoss, ...scoreGroups({ model: m, tokenizer, targetTokenizer }, evalGroups, decoding).metrics };
      },
    },
    model,
    modelKind,
    tokenizer,
    targetTokenizer: shared ? null : targetTokenizer,
    trainer: trainerOptions(c, 'dModel' in model.config ? model.config.dModel : model.config.hidden),
    summary: `seq2seq (${c.train}): ${d.train.length} training pairs${left}, ${d.valid.length} valid pairs (${heldOut}); tokenizers: ${toks}; ${evalGroups.length} valid sources decoded at each evaluation`,
    notes: d.notes,
  };
}

/** Options of {@link transduce}. */
export interface TransduceOptions {
  beam: number;
  lengthPenalty?: number;
  /** Most target tokens (default: 2 × source tokens + 10); never more than the model's positions. */
  maxLength?: number;
}

/**
 * Decodes inputs with a trained encoder-decoder and its tokenizers (beam search, or greedy with
 * beam 1) and returns the target texts: sequence transduction, what g2p and translate do, for any
 * transformer checkpoint. Sources longer than the model's positions are cut.
 *
 * @example
 * transduce(ck, ['hello', 'world'], { beam: 4 }); // ['HH AH0 L OW1', 'W ER1 L D']
 */
export function transduce(t: TrainedModel<EncoderDecoder>, inputs: readonly string[], o: TransduceOptions): string[] {
  const positions = t.model.config.maxLen - 1;
  const tgt = t.targetTokenizer;
  const sources = inputs.map((s) => t.tokenizer.encode(s).slice(0, positions));
  const maxLen = o.maxLength !== undefined ? () => Math.min(o.maxLength!, positions) : (n: number) => Math.min(2 * n + 10, positions);
  const out = decodeAll(t.model, sources, { padId: tgt.padId, bosId: tgt.bosId, eosId: tgt.eosId, beam: o.beam, lengthPenalty: o.lengthPenalty ?? 0.6, maxLen });
  return out.map((ids) => tgt.decode(ids, { skipSpecial: true }));
}

/** Whitespace runs as one space, none at the ends: how hypotheses and references are compared. */
const normalise = (s: string): string => s.trim().split(/\s+/u).filter((w) => w).join(' ');

/**
 * Decodes each group's source and scores it against the group's references: exactMatch (share of
 * sources whose output equals one of the references), cer (character edit distance to the closest
 * reference over that reference's characters, summed over sources), BLEU and chrF (sacreBLEU's
 * defaults, 0–100, against every reference). Whitespace is normalised on both sides first.
 */
function scoreGroups(t: TrainedModel<EncoderDecoder>, groups: readonly PairGroup[], o: TransduceOptions) {
  const hyps = transduce(t, groups.map((g) => g.source), o).map(normalise);
  const refs = groups.map((g) => g.references.map(normalise));
  const r = g2pErrorRates(hyps.map((h) => [...h]), refs.map((rs) => rs.map((x) => [...x])));
  const K = Math.max(0, ...refs.map((rs) => rs.length));
  const streams = Array.from({ length: K }, (_, k) => refs.map((rs) => rs[k] ?? null));
  return {
    metrics: { exactMatch: 1 - r.wer, cer: r.per, bleu: corpusBleu(hyps, streams).score, chrf: corpusChrf(hyps, streams).score },
    hypotheses: hyps,
  };
}

/** Options of {@link evaluatePairsFile}: decoding and reading. */
export interface PairsFileOptions extends TransduceOptions {
  limit?: number;
  /** Where bad rows go (default: the first one throws). */
  badRows?: BadRows;
  onProgress?: (p: ReadProgress) => void;
}

/**
 * Scores a trained encoder-decoder on a file of pairs (TSV or JSONL; the same metrics as a seq2seq
 * run's evaluation, with beam search): any transformer checkpoint, any task.
 *
 * @example
 * const { metrics } = await evaluatePairsFile(ck, 'more-pairs.tsv', { beam: 4 });
 */
export async function evaluatePairsFile(t: TrainedModel<EncoderDecoder>, path: string, o: PairsFileOptions): Promise<{ metrics: Record<string, number>; examples: { source: string; hypothesis: string; references: string[] }[] }> {
  const pairs: TextPair[] = [];
  for await (const p of readPairs(path, { badRows: o.badRows ?? new BadRows(false), onProgress: o.onProgress })) pairs.push(p);
  return scoreFile(t, pairs, path, o);
}

function scoreFile(t: TrainedModel<EncoderDecoder>, pairs: readonly TextPair[], what: string, o: TransduceOptions & { limit?: number }) {
  const groups = spread(groupPairs(pairs), o.limit ?? null);
  if (groups.length === 0) throw new ArgumentError(`${what}: no pairs to score, expected at least one`);
  t.model.eval();
  const r = scoreGroups(t, groups, o);
  return {
    metrics: { ...r.metrics, sources: groups.length },
    examples: groups.map((g, i) => ({ source: g.source, hypothesis: r.hypotheses[i], references: g.references })),
  };
}

/**
 * Scores a trained model of a seq2seq run on its valid split (the valid file, or the held-out pairs
 * of the train file, read again) or on `file`, with beam search (the config's beam unless given).
 * A run on your own data has no test split.
 *
 * @example
 * const { metrics } = await evaluateSeq2seq(ck, config, { split: 'valid', limit: 500 });
 */
export async function evaluateSeq2seq(t: TrainedModel<EncoderDecoder>, c: Seq2SeqConfig, o: EvaluateOptions) {
  const decoding = { beam: o.beam ?? c.beam, lengthPenalty: c.lengthPenalty, maxLength: c.maxLength, limit: o.limit };
  if (o.file !== undefined) return evaluatePairsFile(t, o.file, { ...decoding, badRows: o.badRows ?? new BadRows(c.skipBadRows), onProgress: o.onProgress });
  const path = requireTrain(c);
  if (o.split !== 'valid') throw new ArgumentError(`split '${o.split}': a seq2seq run (${path}) has only a valid split, expected --split valid or --file FILE`);
  const pairs: TextPair[] = [];
  const badRows = o.badRows ?? new BadRows(c.skipBadRows);
  if (c.valid !== null) {
    for await (const p of readPairs(c.valid, { badRows, onProgress: o.onProgress })) pairs.push(p);
  } else {
    const split = { validFile: false, validShare: c.validShare };
    for await (const p of readPairs(path, { badRows, onProgress: o.onProgress })) if (splitOfRow(p.source, split) === 'valid') pairs.push(p);
  }
  return scoreFile(t, pairs, c.valid ?? `${path} (held out)`, decoding);
}
