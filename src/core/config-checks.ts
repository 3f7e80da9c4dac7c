// Range and type checks of a model config's fields, shared by the models' resolvers (and so by their constructors and the checkpoint loader).

import { ArgumentError } from './errors.js';
import { LIMITS } from './limits.js';

/** What one field of a model config may hold. */
export type ConfigRule =
  | { int: [number, number] }
  | { real: [number, number]; openMin?: boolean; openMax?: boolean }
  | { oneOf: readonly (string | boolean)[] };

/** A positive integer. */
export const POSITIVE_INT: ConfigRule = { int: [1, Number.MAX_SAFE_INTEGER] };
/** An integer ≥ 0. */
export const NON_NEG_INT: ConfigRule = { int: [0, Number.MAX_SAFE_INTEGER] };
/** A position count: 1 to LIMITS.maxPositions (the sinusoid table is allocated from it alone). */
export const POSITIONS: ConfigRule = { int: [1, LIMITS.maxPositions] };
/** A probability of dropping: [0, 1). */
export const DROP_RATE: ConfigRule = { real: [0, 1], openMax: true };
/** LayerNorm ε: (0, 1]; past 1 it swamps the variance, and 1e308 is Infinity in float32. */
export const LAYER_NORM_EPS: ConfigRule = { real: [0, 1], openMin: true };
/** A seed: any safe integer. */
export const SEED: ConfigRule = { int: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER] };
/** true or false. */
export const BOOL: ConfigRule = { oneOf: [true, false] };

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/**
 * Checks each field of `config` against its rule; the first bad one is an ArgumentError
 * `<model>: <field> is <value>, expected <rule>` (the existing "must be a positive integer"
 * wording for positive integers).
 *
 * @example
 * checkConfigFields('GPT', { eps: -1 }, { eps: LAYER_NORM_EPS }); // throws "GPT: eps is -1, expected a finite number in (0, 1]"
 */
export function checkConfigFields(model: string, config: Readonly<Record<string, unknown>>, rules: Readonly<Record<string, ConfigRule>>): void {
  for (const [field, rule] of Object.entries(rules)) {
    const v = config[field];
    if ('int' in rule) {
      const [lo, hi] = rule.int;
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= lo && v <= hi) continue;
      if (lo === 1 && hi === Number.MAX_SAFE_INTEGER) throw new ArgumentError(`${model}: ${field} must be a positive integer, got ${show(v)}`);
      const range = hi === Number.MAX_SAFE_INTEGER ? (lo === Number.MIN_SAFE_INTEGER ? 'an integer' : `an integer ≥ ${lo}`) : `an integer from ${lo} to ${hi}`;
      const cap = hi === LIMITS.maxPositions ? ' (the cap LIMITS.maxPositions)' : '';
      throw new ArgumentError(`${model}: ${field} is ${show(v)}, expected ${range}${cap}`);
    } else if ('real' in rule) {
      const [lo, hi] = rule.real;
      const ok = typeof v === 'number' && Number.isFinite(v) && (rule.openMin ? v > lo : v >= lo) && (rule.openMax ? v < hi : v <= hi);
      if (!ok) throw new ArgumentError(`${model}: ${field} is ${show(v)}, expected a finite number in ${rule.openMin ? '(' : '['}${lo}, ${hi}${rule.openMax ? ')' : ']'}`);
    } else if (!rule.oneOf.includes(v as string | boolean)) {
      throw new ArgumentError(`${model}: ${field} is ${show(v)}, expected ${rule.oneOf.map((o) => JSON.stringify(o)).join(' or ')}`);
    }
  }
}

/** The most labels a classifier may have (the head is [labels, D]: a bound on what a config file can make us allocate). */
export const MAX_LABELS = 65_536;

/**
 * Checks a classifier's label names: an array of 2 to MAX_LABELS distinct non-empty strings. Returns a copy.
 *
 * @example
 * checkLabels('GPTForSequenceClassification', ['neg', 'pos']); // ['neg', 'pos']
 */
export function checkLabels(model: string, labels: unknown): string[] {
  if (!Array.isArray(labels)) throw new ArgumentError(`${model}: labels is ${labels === undefined ? 'missing' : show(labels)}, expected an array of label names`);
  if (labels.length < 2 || labels.length > MAX_LABELS) throw new ArgumentError(`${model}: labels has ${labels.length} entries, expected 2 to ${MAX_LABELS}`);
  const seen = new Set<string>();
  labels.forEach((l, i) => {
    if (typeof l !== 'string' || l === '') throw new ArgumentError(`${model}: labels[${i}] is ${JSON.stringify(l)}, expected a non-empty string`);
    if (seen.has(l)) throw new ArgumentError(`${model}: labels[${i}] ${JSON.stringify(l)} appears twice, expected distinct names`);
    seen.add(l);
  });
  return [...(labels as string[])];
}
