// What the PyTorch twin trains and decodes on: a qkv task recipe's exact splits, tokenizers and options.

import { ArgumentError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { loadDing } from '../../src/data/ding.js';
import { loadSotu } from '../../src/data/sotu.js';
import type { LmBatch, PairBatch, SeqPair } from '../../src/data/batching.js';
import { lmChunkCount } from '../../src/data/batching.js';
import { PAPER_ADAM } from '../../src/optim/adam.js';
import type { Tokenizer } from '../../src/tokenizers/tokenizer.js';
import { buildTaskRun, g2pData, g2pPairs, sotuText, spread, translatePairs } from '../../src/train/tasks/index.js';
import type { G2PConfig, LmConfig, TaskConfig, TaskRun, TranslateConfig } from '../../src/train/tasks/index.js';

/** A test example: source ids, and what the scorer compares the twin's output with. */
export interface TestExample {
  src: number[];
  /** g2p: the word; translate: the English sentence. */
  text: string;
  /** g2p: every listed pronunciation; translate: the one German reference. */
  refs: string[];
}

/** How the recipe decodes a test batch: maxLen = round(scale · width) + add, sources sorted by length in batches. */
export interface DecodeRule {
  beam: number;
  lengthPenalty: number;
  batchSize: number;
  maxLenScale: number;
  maxLenAdd: number;
}

/** Everything one export holds (twin.json plus the splits, written by export.ts). */
export interface TwinExport {
  /** twin.json: task, preset, config, architecture, optimiser, decoding and counts. */
  meta: Record<string, unknown>;
  tokenizer: Tokenizer;
  targetTokenizer: Tokenizer | null;
  /** Encoder-decoder tasks: the training pairs, indexed as the recipe's batches index them. */
  train?: SeqPair[];
  valid?: SeqPair[];
  test?: TestExample[];
  /** lm: token streams. */
  trainIds?: Int32Array;
  validIds?: Int32Array;
  testIds?: Int32Array;
}

// The decoding rules of pronounce() (n + 8 phonemes, 64 sources a batch) and translate()
// (round(1.5 n) + 10 tokens, 32 a batch): G2P_RULES and TRANSLATE_RULES of src/inference/seq2seq.ts.
const DECODE_RULES = {
  g2p: { batchSize: 64, maxLenScale: 1, maxLenAdd: 8 },
  translate: { batchSize: 32, maxLenScale: 1.5, maxLenAdd: 10 },
} as const;

/**
 * The training pairs exactly as the recipe's batches hold them: one epoch of `run.task.batches`,
 * each row un-padded back to (src, tgt) at the index the batch names. Every pair appears once per epoch.
 */
export function pairsFromBatches(run: TaskRun, padId: number, eosId: number): SeqPair[] {
  const out: SeqPair[] = [];
  for (const b of run.task.batches(0, new Rng(0)) as Iterable<PairBatch>) {
    const src = rowsOf(b.src, b.srcPadMask);
    const tgt = rowsOf(b.tgtOut, b.tgtPadMask);
    b.indices.forEach((index, r) => {
      const t = tgt[r];
      if (t[t.length - 1] !== eosId) throw new Error(`batch row ${r} (example ${index}): target does not end with </s> (${eosId})`);
      out[index] = { src: src[r], tgt: t.slice(0, -1) };
    });
  }
  const missing = out.findIndex((p) => p === undefined);
  if (missing >= 0 || out.length === 0) throw new Error(`one epoch of batches left training example ${missing} out; expected every example once`);
  for (const p of out) if (p.src.some((id) => id === padId)) throw new Error('a source holds <pad> inside it');
  return out;
}

function rowsOf(ids: { shape: readonly number[]; toArray(): ArrayLike<number> }, mask: { toArray(): ArrayLike<number> }): number[][] {
  const [B, W] = ids.shape;
  const a = ids.toArray();
  const m = mask.toArray();
  const rows: number[][] = [];
  for (let r = 0; r < B; r++) {
    const row: number[] = [];
    for (let c = 0; c < W; c++) if (m[r * W + c] === 0) row.push(a[r * W + c]);
    rows.push(row);
  }
  return rows;
}

/** The token stream the lm recipe trains on, rebuilt from one epoch of chunks (the tail no chunk covers is dropped, as in training). */
export function streamFromBatches(run: TaskRun, context: number): Int32Array {
  let chunks = 0;
  const pieces = new Map<number, ArrayLike<number>>();
  const targets = new Map<number, ArrayLike<number>>();
  for (const b of run.task.batches(0, new Rng(0)) as Iterable<LmBatch>) {
    const input = b.input.toArray();
    const target = b.target.toArray();
    b.indices.forEach((k, r) => {
      pieces.set(k, Array.prototype.slice.call(input, r * context, (r + 1) * context) as number[]);
      targets.set(k, Array.prototype.slice.call(target, r * context, (r + 1) * context) as number[]);
      chunks = Math.max(chunks, k + 1);
    });
  }
  const out = new Int32Array(chunks * context + 1);
  for (let k = 0; k < chunks; k++) {
    const p = pieces.get(k);
    const t = targets.get(k);
    if (!p || !t) throw new Error(`one epoch of lm batches left chunk ${k} out; expected every chunk once`);
    out.set(p as ArrayLike<number>, k * context);
    out[(k + 1) * context] = t[context - 1];
  }
  return out;
}

function modelConfig(run: TaskRun): Record<string, unknown> {
  const { backend: _b, dtype: _d, ...config } = (run.model as unknown as { config: Record<string, unknown> }).config;
  return { kind: run.modelKind, ...config };
}

/** The training options the twin copies: the config's, the paper's Adam, and how qkv reports tokens. */
function trainingOptions(c: TaskConfig): Record<string, unknown> {
  return {
    maxTokens: c.maxTokens, labelSmoothing: c.labelSmoothing, warmup: c.warmup, lrFactor: c.lrFactor,
    scheduleDModel: c.model.dModel, clipGradNorm: c.clipGradNorm, maxSteps: c.maxSteps, maxMinutes: c.maxMinutes,
    evalEvery: c.evalEvery, patience: c.patience, seed: c.seed, adam: { betas: [...PAPER_ADAM.betas], eps: PAPER_ADAM.eps },
    poolSize: 4096, monitor: 'validLoss',
  };
}

/**
 * Builds the recipe of `config` (its data, tokenizers and model config) and collects what the
 * twin needs: the training split as the recipe's batches hold it, the valid subset the recipe
 * evaluates (and keeps the best checkpoint) on, and the whole test split that `qkv eval` scores.
 *
 * @example
 * const ex = await twinExport(taskConfig('g2p', 'tiny'));
 * ex.train!.length; // 2000 pairs
 */
export async function twinExport(config: TaskConfig): Promise<TwinExport> {
  if (config.task === 'seq2seq' || config.task === 'mlm' || config.task === 'classify' || (config.task === 'lm' && (typeof config.train === 'string' || config.corpus !== 'sotu'))) {
    throw new ArgumentError(`twinExport: a ${config.task} run ${config.task === 'mlm' || config.task === 'classify' ? 'has' : 'on your own data (or the pre-training corpus) has'} no PyTorch twin, expected g2p, translate or lm on its packaged dataset`);
  }
  const run = await buildTaskRun(config);
  const tok = run.tokenizer;
  const tgtTok = run.targetTokenizer ?? tok;
  const special = { padId: tgtTok.padId, bosId: tgtTok.bosId, eosId: tgtTok.eosId, unkId: tgtTok.unkId };
  const base = {
    task: config.task, preset: config.preset, config, model: modelConfig(run), training: trainingOptions(config), special,
    summary: run.summary,
  };
  if (config.task === 'lm') return lmExport(config, run, base);
  const train = pairsFromBatches(run, special.padId, special.eosId);
  const c = config as G2PConfig | TranslateConfig;
  const rule: DecodeRule = { beam: c.beam, lengthPenalty: c.lengthPenalty, ...DECODE_RULES[config.task] };
  let valid: SeqPair[];
  let test: TestExample[];
  if (config.task === 'g2p') {
    const data = await g2pData(config);
    valid = g2pPairs(spread(data.valid, config.evalWords), tok, tgtTok);
    test = data.test.map((e) => ({ src: tok.encode(e.word.toUpperCase()), text: e.word, refs: e.pronunciations }));
  } else {
    const data = await loadDing();
    valid = translatePairs(spread(data.valid, config.evalSentences), tok);
    test = data.test.map((p) => ({ src: tok.encode(p.src), text: p.src, refs: [p.tgt] }));
  }
  const meta = { ...base, decode: rule, counts: { train: train.length, valid: valid.length, test: test.length, trainTargetTokens: train.reduce((n, p) => n + p.tgt.length + 1, 0) } };
  return { meta, tokenizer: tok, targetTokenizer: run.targetTokenizer, train, valid, test };
}

async function lmExport(c: LmConfig, run: TaskRun, base: Record<string, unknown>): Promise<TwinExport> {
  const C = c.model.context;
  const trainIds = streamFromBatches(run, C);
  const data = await loadSotu();
  const tok = run.tokenizer;
  const validIds = Int32Array.from(tok.encode(sotuText(data.valid, c.evalChars)));
  const testIds = Int32Array.from(tok.encode(sotuText(data.test)));
  // Bits per character divide by the characters the scored chunks spell (as scoreStream in lm.ts).
  const covered = lmChunkCount(testIds.length, C) * C;
  const testCharacters = [...tok.decode(Array.from(testIds.subarray(1, 1 + covered)))].length;
  const meta = {
    ...base, lm: { context: C, testCharacters },
    counts: { trainTokens: trainIds.length, validTokens: validIds.length, testTokens: testIds.length, trainChunks: (trainIds.length - 1) / C },
  };
  return { meta, tokenizer: tok, targetTokenizer: null, trainIds, validIds, testIds };
}
