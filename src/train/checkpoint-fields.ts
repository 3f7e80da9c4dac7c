// Field checks for checkpoint JSON (trainer_state.json, config.json's model): each error names the file and field.

import { FormatError } from '../core/errors.js';
import { jsonPreview } from '../core/preview.js';
import type { TrainerState } from './trainer.js';

/** A checkpoint was missing, malformed, or did not fit what was asked of it. Messages name the file and field. */
export class CheckpointError extends FormatError {}

/** A short description of a JSON value for error messages. */
export function describe(x: unknown): string {
  if (x === undefined) return 'missing';
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'object') return 'an object';
  if (typeof x === 'string') return `the string ${JSON.stringify(x.length > 40 ? x.slice(0, 40) + '…' : x)}`;
  return `${typeof x} ${String(x)}`;
}

/** Throws unless `x` is a plain JSON object. */
export function checkRecord(x: unknown, where: string, field: string): Record<string, unknown> {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) throw new CheckpointError(`${where}: ${field} is ${describe(x)}, expected an object`);
  return x as Record<string, unknown>;
}

/** The kinds of value a config or state field may hold. */
export type FieldKind = 'int' | 'nonNegInt' | 'positiveInt' | 'number' | 'boolean' | 'string' | 'labels' | readonly string[];

/** Checks one field and returns it; the error says `<file>: <field> is <what it is>, expected <kind>`. */
export function checkField(obj: Record<string, unknown>, key: string, kind: FieldKind, where: string, prefix = ''): unknown {
  const v = obj[key];
  const fail = (expected: string): never => {
    throw new CheckpointError(`${where}: ${prefix}${key} is ${describe(v)}, expected ${expected}`);
  };
  if (Array.isArray(kind)) {
    if (!kind.includes(v as string)) fail(`one of ${kind.map((k) => JSON.stringify(k)).join(', ')}`);
    return v;
  }
  switch (kind) {
    case 'int': if (!Number.isSafeInteger(v)) fail('an integer'); break;
    case 'nonNegInt': if (!Number.isSafeInteger(v) || (v as number) < 0) fail('an integer ≥ 0'); break;
    case 'positiveInt': if (!Number.isSafeInteger(v) || (v as number) < 1) fail('an integer ≥ 1'); break;
    case 'number': if (typeof v !== 'number' || !Number.isFinite(v)) fail('a finite number'); break;
    case 'boolean': if (typeof v !== 'boolean') fail('true or false'); break;
    case 'string': if (typeof v !== 'string') fail('a string'); break;
    case 'labels': {
      const bad = Array.isArray(v) ? v.findIndex((l) => typeof l !== 'string' || l === '') : -1;
      if (!Array.isArray(v) || v.length < 2) fail('an array of at least 2 label names');
      if (bad >= 0) throw new CheckpointError(`${where}: ${prefix}${key}[${bad}] is ${describe((v as unknown[])[bad])}, expected a non-empty label name`);
      break;
    }
  }
  return v;
}

/** An Rng state as JSON writes it: 4 unsigned 32-bit words and the spare normal (NaN written as null). */
function readRngState(x: unknown, where: string, field: string): number[] {
  const ok = Array.isArray(x) && x.length === 5 && x.slice(0, 4).every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32) && (x[4] === null || typeof x[4] === 'number');
  if (!ok) throw new CheckpointError(`${where}: ${field} is ${jsonPreview(x)}, expected an Rng state [4 unsigned 32-bit integers, a number or null]`);
  return (x as (number | null)[]).map((v) => (v === null ? NaN : v));
}

/** Reads and checks trainer_state.json. */
export function readTrainerState(raw: unknown, where: string): TrainerState {
  const s = checkRecord(raw, where, 'the top level');
  for (const k of ['step', 'epoch', 'batchInEpoch', 'badEvals'] as const) checkField(s, k, 'nonNegInt', where);
  checkField(s, 'elapsedSeconds', 'number', where);
  checkField(s, 'earlyStopped', 'boolean', where);
  const dataRng = readRngState(s.dataRng, where, 'dataRng');
  const rngs = checkRecord(s.modelRngs, where, 'modelRngs');
  const modelRngs: Record<string, number[]> = {};
  for (const [name, st] of Object.entries(rngs)) modelRngs[name] = readRngState(st, where, `modelRngs["${name}"]`);
  let best: TrainerState['best'] = null;
  if (s.best !== null) {
    const b = checkRecord(s.best, where, 'best');
    checkField(b, 'metric', 'string', where, 'best.');
    checkField(b, 'value', 'number', where, 'best.');
    checkField(b, 'step', 'nonNegInt', where, 'best.');
    best = { metric: b.metric as string, value: b.value as number, step: b.step as number };
  }
  return {
    step: s.step as number,
    epoch: s.epoch as number,
    batchInEpoch: s.batchInEpoch as number,
    dataRng,
    modelRngs,
    best,
    badEvals: s.badEvals as number,
    elapsedSeconds: s.elapsedSeconds as number,
    earlyStopped: s.earlyStopped as boolean,
  };
}
