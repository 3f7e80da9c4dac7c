// Data parallelism's seam: the Trainer hands batches to replicas of the model (worker threads on
// Node: src/node/data-parallel.ts), computes its own batch meanwhile, and averages the gradients by
// tokens. Also: a batch's tensors as plain typed arrays, to cross a thread boundary.

import { ArgumentError } from '../core/errors.js';
import type { DType, TypedArray } from '../core/dtype.js';
import { noGrad } from '../tensor/grad-mode.js';
import { tensor } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';

/** One replica's share of a step: its batch's mean loss, tokens and gradients (one per parameter, in order). */
export interface ReplicaResult {
  loss: number;
  tokens: number;
  /** Gradient of the batch's mean loss for each parameter, of its shape (null: the parameter got none). */
  grads: (Tensor | null)[];
}

/**
 * Copies of the model that compute gradients of other batches while the trainer computes its own.
 * A step: `start` (returns at once), the trainer's own forward and backward, then `finish` (waits).
 */
export interface GradientReplicas<B = unknown> {
  /** Batches a step can hand out besides the trainer's own. */
  readonly count: number;
  /**
   * Starts replica i on `batches[i]` (at most `count`) with the given parameters' current values;
   * `step` seeds the replicas' dropout, so that a step's masks do not depend on what ran before.
   */
  start(batches: readonly B[], params: readonly Tensor[], step: number): void;
  /** Waits for what `start` began; one result per batch, in order. */
  finish(): ReplicaResult[];
}

/**
 * Sets each parameter's gradient to the token-weighted mean of its own (the mean over `tokens`
 * tokens) and the replicas': Σ tokensᵢ·gᵢ / Σ tokensᵢ, the gradient of the mean loss over all
 * the step's tokens. Returns that mean loss and the tokens it covers.
 *
 * @example
 * const { loss, tokens } = averageGradients(params, { loss: 2.1, tokens: 1400 }, replicas.finish());
 */
export function averageGradients(params: readonly Tensor[], own: { loss: number; tokens: number }, results: readonly ReplicaResult[]): { loss: number; tokens: number } {
  const total = results.reduce((n, r) => n + r.tokens, own.tokens);
  if (!(total > 0)) throw new ArgumentError(`averageGradients: the step's batches hold ${total} tokens, expected at least one`);
  for (const r of results) {
    if (r.grads.length !== params.length) throw new ArgumentError(`averageGradients: a replica gave ${r.grads.length} gradients, expected ${params.length} (one per parameter)`);
  }
  noGrad(() => {
    params.forEach((p, j) => {
      let g = p.grad ? p.grad.mul(own.tokens / total) : null;
      for (const r of results) {
        const part = r.grads[j];
        if (!part) continue;
        if (part.size !== p.size) throw new ArgumentError(`averageGradients: a replica's gradient of parameter ${j} has ${part.size} values, expected ${p.size}`);
        const scaled = part.mul(r.tokens / total);
        g = g ? g.add(scaled) : scaled;
      }
      p.grad = g;
    });
  });
  return { loss: results.reduce((s, r) => s + r.loss * r.tokens, own.loss * own.tokens) / total, tokens: total };
}

/** A tensor as plain data (see {@link packBatch}). */
interface PackedTensor {
  qkvTensor: true;
  dtype: DType;
  shape: number[];
  data: TypedArray;
}

/**
 * A batch with every Tensor in it (at any depth of plain objects and arrays) replaced by its
 * values, so that postMessage can copy it; {@link unpackBatch} makes the tensors again.
 *
 * @example
 * worker.postMessage(packBatch(batch)); // there: const b = unpackBatch(msg)
 */
export function packBatch(b: unknown): unknown {
  if (b instanceof Tensor) return { qkvTensor: true, dtype: b.dtype, shape: [...b.shape], data: b.toArray() } satisfies PackedTensor;
  if (Array.isArray(b)) return b.map(packBatch);
  if (b !== null && typeof b === 'object') {
    if (Object.getPrototypeOf(b) !== Object.prototype) throw new ArgumentError(`packBatch: a batch may hold tensors, numbers, strings, arrays and plain objects; got a ${b.constructor?.name ?? 'object'}`);
    return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, packBatch(v)]));
  }
  return b;
}

/** The inverse of {@link packBatch}: tensors (on the default backend) from their values. */
export function unpackBatch(b: unknown): unknown {
  if (Array.isArray(b)) return b.map(unpackBatch);
  if (b !== null && typeof b === 'object') {
    const t = b as Partial<PackedTensor>;
    if (t.qkvTensor === true && ArrayBuffer.isView(t.data)) return tensor(t.data, { shape: t.shape, dtype: t.dtype });
    return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, unpackBatch(v)]));
  }
  return b;
}
