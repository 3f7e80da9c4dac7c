// The CLI's errors: each becomes one line `qkv: <message>` on stderr and an exit code (2 for usage, else 1).

import { InvalidArgumentError } from 'commander';
import { QkvError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import type { LimitName } from '../core/limits.js';

/** A problem the user can fix (missing file, wrong checkpoint): exit code 1 unless given. */
export class CliError extends QkvError {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** The command line itself is wrong (bad task name, bad flag value): exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** An option parser for commander: an integer ≥ min. */
export function intAtLeast(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
    return n;
  };
}

/** An option parser for commander: an integer from 1 to the cap `name` of LIMITS (beam sizes, token counts). */
export function intUpToLimit(name: LimitName): (value: string) => number {
  return (value) => {
    const n = Number(value);
    const cap = LIMITS[name];
    if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1 || n > cap) {
      throw new InvalidArgumentError(`expected an integer from 1 to ${cap} (the cap LIMITS.${name}; see docs/reliability.md)`);
    }
    return n;
  };
}

/** An option parser for commander: a finite number in [min, max] (max inclusive, min exclusive when `open`). */
export function numberIn(min: number, max: number, open = false): (value: string) => number {
  return (value) => {
    const n = Number(value);
    const ok = value.trim() !== '' && Number.isFinite(n) && (open ? n > min : n >= min) && n <= max;
    if (!ok) throw new InvalidArgumentError(`expected a number ${open ? '>' : '≥'} ${min}${max < Infinity ? ` and ≤ ${max}` : ''}`);
    return n;
  };
}

/** An option parser for commander: one of the listed words. */
export function oneOf<T extends string>(values: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(values as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}`);
    return value as T;
  };
}
