// Loads the PyTorch golden fixtures (scripts/gen_golden.py) and compares tensors scale-relatively.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSafetensors } from '../../src/io/safetensors.js';
import type { Backend } from '../../src/backend/backend.js';
import type { Module } from '../../src/nn/module.js';
import type { Tensor } from '../../src/tensor/index.js';

export interface Golden {
  /** The parameters, under qkv's state-dict names (every key without '@'). */
  params: Map<string, Tensor>;
  /** A non-parameter entry: '@in.x', '@out', '@attn.self_attn', '@grad.norm1.weight', ... */
  get(key: string): Tensor;
  has(key: string): boolean;
  keys(prefix: string): string[];
  case: Record<string, unknown>;
}

/** Reads test/fixtures/<dir>/<file>, creating every tensor on `backend` (default: the default backend). */
export function loadGolden(file: string, backend?: Backend, dir = 'golden'): Golden {
  const path = fileURLToPath(new URL(`../fixtures/${dir}/${file}`, import.meta.url));
  const { tensors, metadata } = parseSafetensors(readFileSync(path), { source: file, backend });
  const params = new Map([...tensors].filter(([k]) => !k.startsWith('@')));
  return {
    params,
    get(key) {
      const t = tensors.get(key);
      if (!t) throw new Error(`${file}: no tensor '${key}'`);
      return t;
    },
    has: (key) => tensors.has(key),
    keys: (prefix) => [...tensors.keys()].filter((k) => k.startsWith(prefix)),
    case: JSON.parse(metadata.case),
  };
}

type Kind = 'forward' | 'attention' | 'gradient';

/** The largest error seen per backend and kind, for the summary line the golden tests print. */
export const worst = new Map<string, Record<Kind, number>>();

/** One line per backend: `<what> golden worst relative errors on <backend>: forward …, attention …, gradient …`. */
export function reportWorst(what: string): void {
  for (const [b, w] of worst) {
    console.log(`# ${what} golden worst relative errors on ${b}: forward ${w.forward.toExponential(2)}, attention ${w.attention.toExponential(2)}, gradient ${w.gradient.toExponential(2)}`);
  }
}

/**
 * Asserts max |actual - expected| <= tol · max |expected| (the error relative to the tensor's
 * scale) and returns that ratio.
 */
export function expectClose(actual: Tensor | undefined, expected: Tensor, tol: number, label: string, kind: Kind): number {
  assert.ok(actual, `${label}: missing`);
  assert.deepEqual([...actual.shape], [...expected.shape], `${label}: shape`);
  const a = actual.toArray();
  const e = expected.toArray();
  let err = 0;
  let scale = 0;
  for (let i = 0; i < e.length; i++) {
    err = Math.max(err, Math.abs(a[i] - e[i]));
    scale = Math.max(scale, Math.abs(e[i]));
  }
  assert.ok(Number.isFinite(err), `${label}: non-finite values`);
  const ratio = scale > 0 ? err / scale : err;
  assert.ok(ratio <= tol, `${label}: max error ${err.toExponential(3)} is ${ratio.toExponential(3)} of the scale ${scale.toExponential(3)}, allowed ${tol}`);
  const w = worst.get(actual.backend.name) ?? { forward: 0, attention: 0, gradient: 0 };
  w[kind] = Math.max(w[kind], ratio);
  worst.set(actual.backend.name, w);
  return ratio;
}

/**
 * Every parameter's gradient against the fixture's `@grad.<name>` (relative tolerance 1e-4), with
 * the same set of names on both sides; returns the largest relative error.
 */
export function expectGrads(model: Module, g: Golden, tol = 1e-4): number {
  const named = model.namedParameters();
  assert.deepEqual(named.map(([n]) => n).sort(), g.keys('@grad.').map((k) => k.slice(6)).sort());
  let most = 0;
  for (const [name, p] of named) most = Math.max(most, expectClose(p.grad!, g.get(`@grad.${name}`), tol, `grad ${name}`, 'gradient'));
  return most;
}
