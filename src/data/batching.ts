// Token-id sequences -> padded int32 batches: length bucketing under a token budget, seeded shuffling.

import type { Backend } from '../backend/backend.js';
import { ArgumentError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { tensor } from '../tensor/index.js';
import type { Tensor } from '../tensor/index.js';

/** How {@link planBatches} groups examples. */
export interface BatchPlanOptions {
  /** Most tokens in a batch, padding included: rows * longest row <= maxTokens. */
  maxTokens: number;
  /** Most examples in a batch (default: no limit besides maxTokens). */
  maxSentences?: number;
  /** Examples sorted by length together; bigger pools pad less but shuffle less (default 4096). */
  poolSize?: number;
  /** Shuffles examples before pooling and batches after; without it the plan is simply sorted by length. */
  rng?: Rng;
}

function checkPositiveInt(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`${what} must be a positive integer, got ${v}`);
}

/**
 * Groups example indices into batches by length. With an `rng`: shuffle all indices, cut them into
 * pools of `poolSize`, sort each pool by length (stable), fill batches greedily while
 * `rows * longest <= maxTokens` and `rows <= maxSentences`, then shuffle the batch order. Without
 * an `rng` the whole set is one sorted pool and batches stay in order (for evaluation). Every
 * index appears in exactly one batch. An example longer than `maxTokens` is an error.
 *
 * @example
 * planBatches([3, 1, 2, 3], { maxTokens: 6 }); // [[1, 2], [0, 3]]
 */
export function planBatches(lengths: readonly number[], opts: BatchPlanOptions): number[][] {
  const { maxTokens, rng } = opts;
  const maxSentences = opts.maxSentences ?? Infinity;
  const poolSize = opts.poolSize ?? 4096;
  checkPositiveInt('planBatches: maxTokens', maxTokens);
  if (maxSentences !== Infinity) checkPositiveInt('planBatches: maxSentences', maxSentences);
  checkPositiveInt('planBatches: poolSize', poolSize);
  lengths.forEach((len, i) => {
    if (!Number.isInteger(len) || len < 0) throw new ArgumentError(`planBatches: length of example ${i} must be an integer >= 0, got ${len}`);
    if (len > maxTokens) throw new ArgumentError(`planBatches: example ${i} has ${len} tokens, more than maxTokens=${maxTokens}; filter or truncate long examples first`);
  });
  const order = lengths.map((_, i) => i);
  if (rng) rng.shuffle(order);
  const pool = rng ? poolSize : Math.max(order.length, 1);
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += pool) {
    const sorted = order.slice(start, start + pool).sort((a, b) => lengths[a] - lengths[b]);
    let cur: number[] = [];
    let longest = 0;
    for (const i of sorted) {
      const nextLongest = Math.max(longest, lengths[i]);
      if (cur.length > 0 && ((cur.length + 1) * nextLongest > maxTokens || cur.length + 1 > maxSentences)) {
        batches.push(cur);
        cur = [];
        longest = 0;
      }
      cur.push(i);
      longest = Math.max(longest, lengths[i]);
    }
    if (cur.length > 0) batches.push(cur);
  }
  if (rng) rng.shuffle(batches);
  return batches;
}

/** Padded ids and their key-padding mask, both row-major [rows, width]. */
export interface Padded {
  ids: Int32Array;
  /** 1 where `ids` is padding, 0 elsewhere (PyTorch's key_padding_mask convention). */
  mask: Int32Array;
  rows: number;
  width: number;
}

/**
 * Right-pads sequences to the longest one with `padId`, optionally adding a token before and/or
 * after each.
 *
 * @example
 * padSequences([[5, 6], [7]], 0); // ids [5, 6, 7, 0], mask [0, 0, 0, 1], rows 2, width 2
 */
export function padSequences(seqs: readonly (readonly number[])[], padId: number, opts: { prefix?: number; suffix?: number } = {}): Padded {
  const extra = (opts.prefix === undefined ? 0 : 1) + (opts.suffix === undefined ? 0 : 1);
  const width = seqs.reduce((m, s) => Math.max(m, s.length + extra), 0);
  const ids = new Int32Array(seqs.length * width).fill(padId);
  const mask = new Int32Array(seqs.length * width).fill(1);
  seqs.forEach((s, r) => {
    const row = [...(opts.prefix === undefined ? [] : [opts.prefix]), ...s, ...(opts.suffix === undefined ? [] : [opts.suffix])];
    row.forEach((id, c) => {
      if (!Number.isInteger(id)) throw new ArgumentError(`padSequences: token ${c} of sequence ${r} must be an integer id, got ${id}`);
      ids[r * width + c] = id;
      mask[r * width + c] = 0;
    });
  });
  return { ids, mask, rows: seqs.length, width };
}

/** A source-target example of token ids, without special tokens. */
export interface SeqPair {
  src: readonly number[];
  tgt: readonly number[];
}

/** Special ids used when collating pairs. */
export interface PairSpecialIds {
  padId: number;
  bosId: number;
  eosId: number;
}

/** A batch of pairs; every tensor is int32. */
export interface PairBatch {
  /** Which examples (indices into the input list), in row order. */
  indices: number[];
  /** [B, S] source ids, right-padded. */
  src: Tensor;
  /** [B, S] 1 = padding. */
  srcPadMask: Tensor;
  /** [B, T] bos + target, padded; T = longest target + 1. */
  tgtIn: Tensor;
  /** [B, T] target + eos, padded. */
  tgtOut: Tensor;
  /** [B, T] 1 = padding (the same for tgtIn and tgtOut). */
  tgtPadMask: Tensor;
  /** Non-pad tokens in tgtOut, for normalising a summed loss. */
  numTgtTokens: number;
}

/** The padded length a pair costs: the longer of its source and its target + 1. */
export function pairLength(p: SeqPair): number {
  return Math.max(p.src.length, p.tgt.length + 1);
}

/**
 * Collates chosen pairs into padded tensors: src, tgtIn = bos + tgt, tgtOut = tgt + eos, with
 * key-padding masks.
 *
 * @example
 * const b = collatePairs([{ src: [5, 6], tgt: [7] }], [0], { padId: 0, bosId: 1, eosId: 2 });
 * b.tgtIn.toArray();  // Int32Array [1, 7]
 * b.tgtOut.toArray(); // Int32Array [7, 2]
 */
export function collatePairs(examples: readonly SeqPair[], indices: readonly number[], ids: PairSpecialIds, backend?: Backend): PairBatch {
  const rows = indices.map((i) => {
    const ex = examples[i];
    if (ex === undefined) throw new ArgumentError(`collatePairs: index ${i} is outside the ${examples.length} examples`);
    if (ex.src.length === 0) throw new ArgumentError(`collatePairs: example ${i} has an empty source; attention over it would have no keys`);
    return ex;
  });
  const src = padSequences(rows.map((r) => r.src), ids.padId);
  const tgtIn = padSequences(rows.map((r) => r.tgt), ids.padId, { prefix: ids.bosId });
  const tgtOut = padSequences(rows.map((r) => r.tgt), ids.padId, { suffix: ids.eosId });
  const make = (data: Int32Array, width: number) => tensor(data, { shape: [rows.length, width], dtype: 'int32', backend });
  return {
    indices: [...indices],
    src: make(src.ids, src.width),
    srcPadMask: make(src.mask, src.width),
    tgtIn: make(tgtIn.ids, tgtIn.width),
    tgtOut: make(tgtOut.ids, tgtOut.width),
    tgtPadMask: make(tgtOut.mask, tgtOut.width),
    numTgtTokens: rows.reduce((n, r) => n + r.tgt.length + 1, 0),
  };
}

/** Options of {@link pairBatches}. */
export interface PairBatchOptions extends BatchPlanOptions, PairSpecialIds {
  backend?: Backend;
}

/**
 * One epoch of source-target batches, bucketed by length under a token budget (see
 * {@link planBatches}; a pair's length is {@link pairLength}). Pass the same `rng` every epoch for
 * a different, reproducible order each time.
 *
 * @example
 * const rng = new Rng(0);
 * for (const b of pairBatches(pairs, { maxTokens: 4096, padId: 0, bosId: 1, eosId: 2, rng })) {
 *   // b.src [B, S], b.tgtIn [B, T], b.tgtOut [B, T], b.srcPadMask, b.tgtPadMask
 * }
 */
export function* pairBatches(examples: readonly SeqPair[], opts: PairBatchOptions): Generator<PairBatch> {
  const plan = planBatches(examples.map(pairLength), opts);
  for (const indices of plan) yield collatePairs(examples, indices, opts, opts.backend);
}

/** Options of {@link lmBatches}. */
export interface LmBatchOptions {
  /** Tokens of input per row; each chunk holds context + 1 tokens. */
  context: number;
  /** Rows per batch; or give maxTokens and get floor(maxTokens / context). */
  batchSize?: number;
  maxTokens?: number;
  /** Shuffles the chunk order; without it chunks come in text order. */
  rng?: Rng;
  backend?: Backend;
}

/** A language-model batch: target is input shifted left by one. */
export interface LmBatch {
  /** Which chunks, in row order: chunk k covers tokens [k * context, k * context + context]. */
  indices: number[];
  /** [B, C] int32 tokens k*C ... k*C + C - 1. */
  input: Tensor;
  /** [B, C] int32 tokens k*C + 1 ... k*C + C. */
  target: Tensor;
}

/** How many chunks of context + 1 tokens (overlapping by one) a stream of `numTokens` gives. */
export function lmChunkCount(numTokens: number, context: number): number {
  checkPositiveInt('lmChunkCount: context', context);
  return Math.max(0, Math.floor((numTokens - 1) / context));
}

/**
 * One epoch of language-model batches from one token stream. The stream is cut into contiguous
 * chunks of context + 1 tokens, chunk k starting at k * context (so every token after the first is
 * a target exactly once; a tail too short for a chunk is dropped), and chunks are grouped into
 * batches of batchSize, in a shuffled order when an `rng` is given.
 *
 * @example
 * for (const b of lmBatches(ids, { context: 128, batchSize: 16, rng: new Rng(0) })) {
 *   // b.input [16, 128], b.target [16, 128] (the last batch may be smaller)
 * }
 */
export function* lmBatches(tokens: ArrayLike<number>, opts: LmBatchOptions): Generator<LmBatch> {
  const { context, rng } = opts;
  const n = lmChunkCount(tokens.length, context);
  let batchSize = opts.batchSize ?? Infinity;
  if (opts.maxTokens !== undefined) {
    checkPositiveInt('lmBatches: maxTokens', opts.maxTokens);
    batchSize = Math.min(batchSize, Math.floor(opts.maxTokens / context));
  }
  if (batchSize === Infinity) throw new ArgumentError('lmBatches: give batchSize or maxTokens, got neither');
  if (batchSize < 1) throw new ArgumentError(`lmBatches: maxTokens=${opts.maxTokens} is less than context=${context}, so no row fits`);
  checkPositiveInt('lmBatches: batchSize', batchSize);
  const order = Array.from({ length: n }, (_, k) => k);
  if (rng) rng.shuffle(order);
  for (let start = 0; start < n; start += batchSize) {
    const indices = order.slice(start, start + batchSize);
    const input = new Int32Array(indices.length * context);
    const target = new Int32Array(indices.length * context);
    indices.forEach((k, r) => {
      for (let c = 0; c < context; c++) {
        input[r * context + c] = tokens[k * context + c];
        target[r * context + c] = tokens[k * context + c + 1];
      }
    });
    const shape = [indices.length, context];
    yield {
      indices,
      input: tensor(input, { shape, dtype: 'int32', backend: opts.backend }),
      target: tensor(target, { shape, dtype: 'int32', backend: opts.backend }),
    };
  }
}
