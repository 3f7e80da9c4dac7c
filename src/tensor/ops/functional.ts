// Composed functions of neural networks: softmax, layer norm, GELU, dropout, cross-entropy.
// Each is built from differentiable primitives, so its gradient comes for free; a backend may
// later add a fused kernel, with this composition kept as its test oracle.

import { DTypeError, ShapeError, fmtShape } from '../../core/errors.js';
import { allocArray } from '../../core/dtype.js';
import type { DType, TypedArray } from '../../core/dtype.js';
import type { Rng } from '../../core/rng.js';
import type { Storage } from '../../backend/backend.js';
import { Tensor } from '../tensor.js';
import { scalarLike } from './elementwise.js';
import { fusedCrossEntropy, fusedGelu, fusedLayerNorm, fusedSoftmax } from './fused.js';

/** softmax(x)_i = e^{x_i - max x} / Σ_j e^{x_j - max x} along `axis`. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const fused = fusedSoftmax(x, axis);
  if (fused) return fused;
  const e = x.sub(x.max(axis, true).detach()).exp();
  return e.div(e.sum(axis, true));
}

/** log softmax(x)_i = x_i - max x - log Σ_j e^{x_j - max x}. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const shifted = x.sub(x.max(axis, true).detach());
  return shifted.sub(shifted.exp().sum(axis, true).log());
}

/** LayerNorm over the last axis: (x - μ) / √(σ² + ε) · γ + β, with the biased variance. */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  const fused = fusedLayerNorm(x, weight, bias, eps);
  if (fused) return fused;
  const mu = x.mean(-1, true);
  const centred = x.sub(mu);
  const variance = centred.mul(centred).mean(-1, true);
  let y = centred.div(variance.add(eps).sqrt());
  if (weight) y = y.mul(weight);
  if (bias) y = y.add(bias);
  return y;
}

/** GELU, exact: x · Φ(x) = ½x(1 + erf(x/√2)). */
export function gelu(x: Tensor): Tensor {
  const fused = fusedGelu(x, 'none');
  if (fused) return fused;
  return x.mul(x.mul(Math.SQRT1_2).erf().add(1)).mul(0.5);
}

/** GELU, tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function geluTanh(x: Tensor): Tensor {
  const fused = fusedGelu(x, 'tanh');
  if (fused) return fused;
  const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
  return x.mul(inner.tanh().add(1)).mul(0.5);
}

/**
 * Inverted dropout: zero each element with probability p and scale the rest by 1/(1-p), so
 * evaluation needs no rescaling. Identity when not training or p = 0.
 */
export function dropout(x: Tensor, p: number, rng: Rng, training: boolean): Tensor {
  if (!training || p === 0) return x;
  if (p < 0 || p >= 1) throw new ShapeError(`dropout: p must be in [0, 1), got ${p}`);
  // One pass forward (x ⊙ mask); the backward g ⊙ mask reuses the same mask.
  return x.mul(Tensor.fromStorage(maskStorage(x, p, rng), x.shape, x.backend));
}

/** The mask for x: made by the backend's kernel when it has one (the same hash), else by dropoutMask. */
function maskStorage(x: Tensor, p: number, rng: Rng): Storage {
  const backend = x.backend;
  const key = dropoutKey(rng);
  if (backend.dropoutMask && x.dtype === 'float32') {
    const s = backend.dropoutMask(x.size, p, 1 / (1 - p), key);
    if (s) return s;
  }
  return backend.fromArray(maskFromKey(x.dtype, x.size, p, key));
}

/** A mask's key: two draws of the generator, so each dropout call advances it by exactly two. */
function dropoutKey(rng: Rng): [number, number] {
  return [rng.nextU32(), rng.nextU32()];
}

/** MurmurHash3's 32-bit finaliser: a bijection of uint32 whose output bits each depend on every input bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The inverted-dropout mask: element i is 1/(1-p) when its draw u_i = h_i / 2³² is ≥ p, else 0, with
 * h_i = fmix32(fmix32(i ⊕ k0) ⊕ k1) and (k0, k1) two draws of `rng`. A counter-based generator: each
 * element's draw depends only on its index and the key, so a kernel may make them in any order, on
 * any number of threads, and give the same mask (native/fused-ops.c computes exactly this); `rng`
 * advances by two draws per mask whatever its size, so a checkpoint's generator state resumes exactly.
 *
 * @example
 * const mask = dropoutMask('float32', 6, 0.5, new Rng(0)); // each 2 or 0
 */
export function dropoutMask(dtype: DType, n: number, p: number, rng: Rng): TypedArray {
  return maskFromKey(dtype, n, p, dropoutKey(rng));
}

function maskFromKey(dtype: DType, n: number, p: number, [k0, k1]: readonly [number, number]): TypedArray {
  const keep = allocArray(dtype, n);
  const scale = 1 / (1 - p);
  // u = h / 2³² is exact in float64, so u ≥ p ⇔ h ≥ p·2³² (also exact): no division per element.
  const threshold = p * 4294967296;
  for (let i = 0; i < n; i++) keep[i] = fmix32(fmix32(i ^ k0) ^ k1) >= threshold ? scale : 0;
  return keep;
}

export interface CrossEntropyOptions {
  /** Targets equal to this are skipped (torch's default, -100). */
  ignoreIndex?: number;
  /** ε of label smoothing: the target becomes (1-ε)·one-hot + ε/V. */
  labelSmoothing?: number;
  /** 'mean' over non-ignored targets (default), or 'sum'. */
  reduction?: 'mean' | 'sum';
}

/**
 * Cross-entropy of logits [N, V] against int32 targets [N], as torch.nn.functional.cross_entropy:
 * loss_n = -Σ_v q_{n,v} log softmax(logits_n)_v with q the (smoothed) target distribution.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const { ignoreIndex = -100, labelSmoothing = 0, reduction = 'mean' } = opts;
  if (logits.ndim !== 2) throw new ShapeError(`crossEntropy: logits must be [N, V], got ${fmtShape(logits.shape)}`);
  if (targets.dtype !== 'int32') throw new DTypeError(`crossEntropy: targets must be int32, got ${targets.dtype}`);
  const [N, V] = logits.shape;
  if (targets.size !== N) throw new ShapeError(`crossEntropy: ${N} rows of logits but targets ${fmtShape(targets.shape)}`);
  const t = targets.toArray();
  let count = 0;
  for (let n = 0; n < N; n++) {
    if (t[n] === ignoreIndex) continue;
    if (t[n] < 0 || t[n] >= V) throw new ShapeError(`crossEntropy: target ${t[n]} at row ${n} is out of range [0, ${V})`);
    count++;
  }
  const fused = fusedCrossEntropy(logits, targets, ignoreIndex, labelSmoothing, reduction, count);
  if (fused) return fused;
  const q = allocArray(logits.dtype, N * V);
  for (let n = 0; n < N; n++) {
    if (t[n] === ignoreIndex) continue;
    for (let v = 0; v < V; v++) q[n * V + v] = labelSmoothing / V;
    q[n * V + t[n]] += 1 - labelSmoothing;
  }
  const qt = Tensor.fromStorage(logits.backend.fromArray(q), [N, V], logits.backend);
  // Zero where q is 0 before multiplying, so a -Infinity logit off the target gives 0, not 0·(-∞) = NaN (as torch).
  const total = logSoftmax(logits, -1).maskedFill(qt.eq(0), 0).mul(qt).sum().neg();
  if (reduction === 'sum') return total;
  return total.div(scalarLike(total, count));
}
