// Checkpoint averaging (the paper, §6.1: "a single model obtained by averaging the last 5 checkpoints"):
// the element-wise mean of several state dicts of one model. The folders and the command are src/cli/average.ts.

import { CheckpointError } from './checkpoint-fields.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

/** One state dict to average and the name that identifies it in errors (its folder). */
export interface NamedState {
  source: string;
  state: ReadonlyMap<string, Tensor>;
}

/**
 * The element-wise mean of state dicts that hold the same names with the same shapes and dtypes.
 * Float tensors are averaged (summed in double precision, then rounded once); integer tensors
 * (counters, index buffers) must be equal in every state and are kept. Any difference of names,
 * shapes, dtypes or integer values is a CheckpointError naming the tensor and both sources.
 *
 * @example
 * const mean = averageStates([{ source: 'a', state: a.stateDict() }, { source: 'b', state: b.stateDict() }]);
 * model.loadStateDict(mean);
 */
export function averageStates(states: readonly NamedState[]): Map<string, Tensor> {
  if (states.length === 0) throw new CheckpointError('averageStates: no checkpoints given, expected at least one');
  const [first, ...rest] = states;
  for (const other of rest) sameNames(first, other);
  const out = new Map<string, Tensor>();
  for (const [name, t0] of first.state) {
    const all = states.map((s) => ({ source: s.source, t: s.state.get(name) as Tensor }));
    for (const { source, t } of all.slice(1)) {
      if (t.dtype !== t0.dtype || t.shape.length !== t0.shape.length || t.shape.some((d, i) => d !== t0.shape[i])) {
        throw new CheckpointError(`${source}: tensor '${name}' is ${t.dtype} [${t.shape.join(', ')}], expected ${t0.dtype} [${t0.shape.join(', ')}] as in ${first.source}`);
      }
    }
    out.set(name, t0.dtype === 'int32' ? sameInts(name, all, first.source) : mean(all.map((x) => x.t.toArray()), t0));
  }
  return out;
}

function mean(arrays: ArrayLike<number>[], like: Tensor): Tensor {
  const n = arrays[0].length;
  const sum = new Float64Array(n);
  for (const a of arrays) for (let i = 0; i < n; i++) sum[i] += a[i];
  const out = like.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = sum[i] / arrays.length;
  return tensor(out, { shape: [...like.shape] });
}

function sameInts(name: string, all: { source: string; t: Tensor }[], firstSource: string): Tensor {
  const a0 = all[0].t.toArray();
  for (const { source, t } of all.slice(1)) {
    const a = t.toArray();
    for (let i = 0; i < a0.length; i++) {
      if (a[i] !== a0[i]) throw new CheckpointError(`${source}: integer tensor '${name}' differs from ${firstSource} at element ${i} (${a[i]} vs ${a0[i]}), expected equal values (integer tensors are not averaged)`);
    }
  }
  return all[0].t;
}

function sameNames(a: NamedState, b: NamedState): void {
  const missing = [...a.state.keys()].filter((k) => !b.state.has(k));
  const extra = [...b.state.keys()].filter((k) => !a.state.has(k));
  if (missing.length || extra.length) {
    const parts = [missing.length ? `lacks ${list(missing)}` : '', extra.length ? `has ${list(extra)} that ${a.source} lacks` : ''].filter(Boolean);
    throw new CheckpointError(`${b.source}: ${parts.join(' and ')}; expected the same tensors as ${a.source} (checkpoints of one model)`);
  }
}

function list(names: string[]): string {
  return names.slice(0, 3).map((n) => `'${n}'`).join(', ') + (names.length > 3 ? ` and ${names.length - 3} more` : '');
}
