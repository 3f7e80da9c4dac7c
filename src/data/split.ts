// FNV-1a hashing and the hash-based train/valid/test rule every packaged dataset uses.

import { ArgumentError } from '../core/errors.js';

/** The three splits of a dataset. */
export type SplitName = 'train' | 'valid' | 'test';

/** Train, valid and test lists of one kind of example. */
export interface Splits<T> {
  train: T[];
  valid: T[];
  test: T[];
}

const FNV_OFFSET = 2166136261;
const FNV_PRIME = 16777619;
const encoder = new TextEncoder();

/**
 * 32-bit FNV-1a of a string's UTF-8 bytes (offset basis 2166136261, prime 16777619), as an
 * unsigned integer. Cheap, dependency-free and the same everywhere, so splits never drift.
 *
 * @example
 * fnv1a32('a'); // 0xe40c292c
 */
export function fnv1a32(text: string): number {
  let h = FNV_OFFSET;
  for (const byte of encoder.encode(text)) {
    h ^= byte;
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** Percent thresholds of {@link splitOf}: a bucket below `train` is train, below `valid` is valid. */
export interface SplitThresholds {
  train: number;
  valid: number;
}

/** 90% train, 5% valid, 5% test. */
export const DEFAULT_THRESHOLDS: SplitThresholds = { train: 90, valid: 95 };

/**
 * The split a key belongs to: `fnv1a32(key) % 100` below 90 is train, below 95 valid, else test.
 * Everything that shares a key (all pronunciations of one word, all sentences of one speech) lands
 * in the same split.
 *
 * @example
 * splitOf('HELLO'); // 'train' | 'valid' | 'test', the same on every machine
 */
export function splitOf(key: string, thresholds: SplitThresholds = DEFAULT_THRESHOLDS): SplitName {
  const { train, valid } = thresholds;
  if (!(train >= 0 && train <= valid && valid <= 100)) {
    throw new ArgumentError(`splitOf: thresholds must satisfy 0 <= train <= valid <= 100, got train=${train}, valid=${valid}`);
  }
  const bucket = fnv1a32(key) % 100;
  return bucket < train ? 'train' : bucket < valid ? 'valid' : 'test';
}

/**
 * Sorts items into splits by `splitOf(keyOf(item))`, keeping their order within each split.
 *
 * @example
 * const s = splitByKey(['CAT', 'DOG'], (w) => w);
 * s.train.length + s.valid.length + s.test.length; // 2
 */
export function splitByKey<T>(items: readonly T[], keyOf: (item: T) => string, thresholds?: SplitThresholds): Splits<T> {
  const out: Splits<T> = { train: [], valid: [], test: [] };
  for (const item of items) out[splitOf(keyOf(item), thresholds)].push(item);
  return out;
}

/** Resolution of {@link isHeldOut}: shares are counted in hundredths of a percent. */
export const HOLD_OUT_BUCKETS = 10_000;

/**
 * The hashed hold-out of your own data: a row (or document) is held out for validation when
 * `fnv1a32(key) % 10000 < round(share × 10000)`, so the same rows are held out on every run and
 * machine, and rows that share a key (every target of one source) stay together.
 *
 * @example
 * isHeldOut('hello', 0.05); // true for about 5% of keys, always the same ones
 */
export function isHeldOut(key: string, share: number): boolean {
  if (!(share >= 0 && share <= 1)) throw new ArgumentError(`isHeldOut: share is ${share}, expected a number in [0, 1]`);
  return fnv1a32(key) % HOLD_OUT_BUCKETS < Math.round(share * HOLD_OUT_BUCKETS);
}
