// Fused kernels behind softmax, layerNorm, crossEntropy, GELU, attention and Linear: used when the tensor's
// backend offers one for the case at hand (native, float32). The composed versions (functional.ts,
// nn/attention.ts, nn/linear.ts) stay the definition and the test oracle (test/backend/native*.test.ts,
// test/backend/fused-linear.test.ts and test/tensor/fused*.test.ts compare the two, forward and backward).

import type { Storage, View } from '../../backend/backend.js';
import { Tensor } from '../tensor.js';
import { ShapeError, fmtShape } from '../../core/errors.js';
import { numel } from '../../core/shape.js';
import { sumToShape } from './reduce.js';

/** softmax over the last axis through backend.softmax, or null when the backend has no kernel for it. */
export function fusedSoftmax(x: Tensor, axis: number): Tensor | null {
  const backend = x.backend;
  if (!backend.softmax || x.ndim === 0 || (axis !== -1 && axis !== x.ndim - 1)) return null;
  const s = backend.softmax(x);
  if (!s) return null;
  const out: Tensor = Tensor.result('softmax', s, x.shape, [x], (g) => {
    // dx = y ⊙ (g − Σ_j g_j y_j)
    const y = out.detach();
    return [y.mul(g.sub(g.mul(y).sum(-1, true)))];
  }, backend);
  return out;
}

/** layerNorm over the last axis through backend.layerNorm, or null when the backend has no kernel for it. */
export function fusedLayerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps: number): Tensor | null {
  const backend = x.backend;
  if (!backend.layerNorm || x.ndim === 0) return null;
  const n = x.shape[x.ndim - 1];
  const fits = (t: Tensor | null) => t === null || (t.backend === backend && t.ndim === 1 && t.shape[0] === n && t.dtype === x.dtype);
  if (!fits(weight) || !fits(bias)) return null;
  const r = backend.layerNorm(x, weight, bias, eps);
  if (!r) return null;
  const inputs = [x, weight, bias].filter((t): t is Tensor => t !== null);
  return Tensor.result('layerNorm', r.y, x.shape, inputs, (g) => {
    const k = backend.layerNormBackward?.(x, g, r.mean, r.rstd, weight);
    if (k) {
      // One pass over x and g (native/fused-ops.c); the composed version below is its oracle.
      const grads: (Tensor | null)[] = [Tensor.fromStorage(k.dx, x.shape, backend)];
      if (weight) grads.push(Tensor.fromStorage(k.dweight, weight.shape, backend));
      if (bias) grads.push(Tensor.fromStorage(k.dbias, bias.shape, backend));
      return grads;
    }
    // x̂ = (x − μ)·rstd;  dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂ ⊙ x̂)) with dx̂ = g ⊙ γ;  dγ = Σ g ⊙ x̂;  dβ = Σ g
    const stat = [...x.shape.slice(0, -1), 1];
    const mean = Tensor.fromStorage(r.mean, stat, backend);
    const rstd = Tensor.fromStorage(r.rstd, stat, backend);
    const xhat = x.detach().sub(mean).mul(rstd);
    const dxhat = weight ? g.mul(weight.detach()) : g;
    const grads: (Tensor | null)[] = [rstd.mul(dxhat.sub(dxhat.mean(-1, true)).sub(xhat.mul(dxhat.mul(xhat).mean(-1, true))))];
    if (weight) grads.push(sumToShape(g.mul(xhat), weight.shape));
    if (bias) grads.push(sumToShape(g, bias.shape));
    return grads;
  }, backend);
}

/** GELU through backend.gelu (exact or tanh form), or null when the backend has no kernel for it. */
export function fusedGelu(x: Tensor, approximate: 'none' | 'tanh'): Tensor | null {
  const backend = x.backend;
  if (!backend.gelu || !backend.geluBackward) return null;
  const s = backend.gelu(x, approximate);
  if (!s) return null;
  return Tensor.result(approximate === 'tanh' ? 'geluTanh' : 'gelu', s, x.shape, [x], (g) => {
    return [Tensor.fromStorage(backend.geluBackward!(x, g, approximate), x.shape, backend)];
  }, backend);
}

/**
 * Cross-entropy through backend.crossEntropy, or null when the backend has no kernel for it. `count` is
 * the number of rows not ignored (the caller has checked every target); 'mean' divides by it.
 */
export function fusedCrossEntropy(logits: Tensor, targets: Tensor, ignoreIndex: number, labelSmoothing: number, reduction: 'mean' | 'sum', count: number): Tensor | null {
  const backend = logits.backend;
  if (!backend.crossEntropy || !backend.crossEntropyBackward || targets.backend !== backend) return null;
  const r = backend.crossEntropy(logits, targets, ignoreIndex, labelSmoothing);
  if (!r) return null;
  const div = reduction === 'mean' ? count : 1;
  const value = new Float32Array([r.sum / div]);
  return Tensor.result('crossEntropy', backend.fromArray(value), [], [logits], (g) => {
    // d loss / d logits_n = (softmax(logits_n) − q_n) · g / div, 0 on ignored rows
    const scale = g.item() / div;
    return [Tensor.fromStorage(backend.crossEntropyBackward!(logits, targets, r.lse, ignoreIndex, labelSmoothing, scale), logits.shape, backend)];
  }, backend);
}

/**
 * softmax(q·kᵀ·scale + mask)·v through backend.attention, or null when the backend has no kernel for
 * the case: q [B, H, T, K], k [B, H, S, K], v [B, H, S, Vd] on one backend; mask (non-zero = not allowed)
 * broadcasts to [B, H, T, S]. A query row with every key masked gives 0, as the composed version.
 */
export function fusedAttention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, scale: number): Tensor | null {
  const backend = q.backend;
  if (!backend.attention || !backend.attentionBackward || q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4) return null;
  if (k.backend !== backend || v.backend !== backend || (mask && mask.backend !== backend)) return null;
  const [B, H, T, K] = q.shape;
  const S = k.shape[2];
  const Vd = v.shape[3];
  if (k.shape[0] !== B || k.shape[1] !== H || k.shape[3] !== K || v.shape[0] !== B || v.shape[1] !== H || v.shape[2] !== S) {
    throw new ShapeError(`attention: q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)} do not fit [B, H, T, K], [B, H, S, K], [B, H, S, Vd]`);
  }
  if (K === 0 || Vd === 0 || T === 0) return null;
  const m = mask ? mask.expand([B, H, T, S]) : null;
  const r = backend.attention(q, k, v, m, scale);
  if (!r) return null;
  return Tensor.result('attention', r.out, [B, H, T, Vd], [q, k, v], (g) => {
    const d = backend.attentionBackward!(q, k, v, m, scale, r.out, r.lse, g);
    return [
      Tensor.fromStorage(d.dq, [B, H, T, K], backend),
      Tensor.fromStorage(d.dk, [B, H, S, K], backend),
      Tensor.fromStorage(d.dv, [B, H, S, Vd], backend),
    ];
  }, backend);
}

/** One operand of {@link fusedMultiHeadAttention}: H heads of d columns each from column `col` of src [B, L, W]. */
export interface HeadColumns {
  src: Tensor;
  col: number;
}

/**
 * Multi-head attention straight from token-major projections, through backend.attention: q, k and v are the
 * `heads` heads of `headDim` columns from their `col` in src [B, T or S, W] (self-attention: one [B, T, 3D]
 * product, Q at column 0, K at D, V at 2D). Returns Concat(head_1..head_H) [B, T, H·headDim] with no copy to
 * split the heads apart or join them; the backward writes each source's gradient once, the parts side by side.
 * mask broadcasts to [B, H, T, S]. Null when the backend has no kernel, a source is not a contiguous float32
 * [B, L, W], or two parts of one source overlap.
 */
export function fusedMultiHeadAttention(q: HeadColumns, k: HeadColumns, v: HeadColumns, heads: number, headDim: number, mask: Tensor | null, scale: number): Tensor | null {
  const backend = q.src.backend;
  const parts = [q, k, v];
  if (!backend.attention || !backend.attentionBackward) return null;
  if (parts.some(({ src }) => src.backend !== backend || src.dtype !== 'float32' || src.ndim !== 3 || !src.isContiguous)) return null;
  if (mask && mask.backend !== backend) return null;
  const [B, T] = q.src.shape;
  const S = k.src.shape[1];
  const H = heads;
  const d = headDim;
  for (const p of parts) {
    const want = p === q ? T : S;
    if (p.src.shape[0] !== B || p.src.shape[1] !== want || p.col < 0 || p.col + H * d > p.src.shape[2]) {
      throw new ShapeError(`multi-head attention: ${H} heads of ${d} from column ${p.col} of ${fmtShape(p.src.shape)} do not fit [${B}, ${want}, ≥ ${p.col + H * d}]`);
    }
  }
  const sources = [...new Set(parts.map((p) => p.src))];
  const uses = sources.map((src) => parts.filter((p) => p.src === src).map((p) => [p.col, p.col + H * d] as const).sort((a, b) => a[0] - b[0]));
  if (uses.some((u) => u.some(([lo], i) => i > 0 && lo < u[i - 1][1]))) return null;
  if (T === 0 || d === 0) return null;
  const view = (storage: Storage, W: number, offset: number, L: number): View =>
    ({ storage, layout: { shape: [B, H, L, d], strides: [L * W, d, W, 1], offset } });
  const headsOf = (p: HeadColumns, L: number) => view(p.src.storage, p.src.shape[2], p.src.layout.offset + p.col, L);
  const m = mask ? mask.expand([B, H, T, S]) : null;
  const [qv, kv, vv] = [headsOf(q, T), headsOf(k, S), headsOf(v, S)];
  const r = backend.attention(qv, kv, vv, m, scale, true);
  if (!r) return null;
  return Tensor.result('multiHeadAttention', r.out, [B, T, H * d], sources, (g) => {
    const gc = g.layout.strides[2] === 1 ? g : g.contiguous();
    const [gb, gt] = gc.layout.strides;
    const gv: View = { storage: gc.storage, layout: { shape: [B, H, T, d], strides: [gb, d, gt, 1], offset: gc.layout.offset } };
    // One gradient per source, zero where no part writes (alloc zero-fills).
    const grads = sources.map((src) => Tensor.fromStorage(backend.alloc('float32', src.size), src.shape, backend));
    const into = (p: HeadColumns, L: number) => view(grads[sources.indexOf(p.src)].storage, p.src.shape[2], p.col, L);
    backend.attentionBackward!(qv, kv, vv, m, scale, r.out, r.lse, gv, { tokenMajor: true, into: { dq: into(q, T), dk: into(k, S), dv: into(v, S) } });
    return grads;
  }, backend);
}

/**
 * y = x·weightᵀ + bias, then ReLU when `activation` is 'relu', through backend.linear, or null when the backend
 * has no kernel for the case: x [..., K] (leading axes folded into rows), weight [N, K], bias [N] or null, all of
 * one dtype on one backend. Backward: g' = g ⊙ (y > 0) after a ReLU, else g; dx = g'·W, dW = g'ᵀ·x, db = Σ g'
 * over rows, in one backend call (native sums db from the blocks of g' it packs for dW).
 */
export function fusedLinear(x: Tensor, weight: Tensor, bias: Tensor | null, activation: 'none' | 'relu'): Tensor | null {
  const backend = x.backend;
  if (!backend.linear || !backend.linearBackward || x.ndim < 2 || weight.ndim !== 2) return null;
  if (weight.backend !== backend || weight.dtype !== x.dtype || (bias && (bias.backend !== backend || bias.dtype !== x.dtype))) return null;
  const [N, K] = weight.shape;
  if (x.dim(-1) !== K || (bias && (bias.ndim !== 1 || bias.shape[0] !== N))) {
    throw new ShapeError(`linear: x ${fmtShape(x.shape)}, weight ${fmtShape(weight.shape)}, bias ${bias ? fmtShape(bias.shape) : 'none'} do not fit [..., K], [N, K], [N]`);
  }
  const lead = x.shape.slice(0, -1);
  const M = numel(lead);
  const x2 = x.detach().reshape([M, K]); // a view when x's strides allow
  const y = backend.linear(x2, weight, bias, activation);
  if (!y) return null;
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return Tensor.result(activation === 'relu' ? 'linearRelu' : 'linear', y, [...lead, N], inputs, (g) => {
    const want = { dx: x.requiresGrad, dweight: weight.requiresGrad, dbias: bias !== null && bias.requiresGrad };
    const d = backend.linearBackward!(x2, weight, g.reshape([M, N]), activation === 'relu' ? y : null, want);
    const grads = [d.dx && Tensor.fromStorage(d.dx, x.shape, backend), d.dweight && Tensor.fromStorage(d.dweight, weight.shape, backend)];
    if (bias) grads.push(d.dbias && Tensor.fromStorage(d.dbias, bias.shape, backend));
    return grads;
  }, backend);
}
