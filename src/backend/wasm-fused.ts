// The wasm backend's fused kernels (softmax, layer norm, attention, cross-entropy, GELU, Adam, Linear, the decoding
// steps): native.ts's methods over the module's exports, with the same metadata and the same cases declined.

import { ArgumentError, ShapeError } from '../core/errors.js';
import { isContiguous } from '../core/layout.js';
import { contiguousStrides, numel } from '../core/shape.js';
import type { Backend, BlockSpec, BlockWeights, StackWeights, View } from './backend.js';
import * as check from './check.js';
import { attentionMeta, headsView, meta } from './native-views.js';
import { STATUS } from './wasm-module.js';
import { WasmCalls, contiguous, contiguousCopy, flatF32, idsView, rowsContiguous } from './wasm-views.js';

/** The optional fused methods `fused: false` leaves out (native.ts's list). */
export const FUSED_METHODS = ['softmax', 'layerNorm', 'layerNormBackward', 'dropoutMask', 'attention', 'attentionBackward', 'crossEntropy',
  'crossEntropyBackward', 'gelu', 'geluBackward', 'adamUpdate', 'decodeBlock', 'decodeStack', 'linear', 'linearBackward'] as const;

type Fused = Pick<Backend, (typeof FUSED_METHODS)[number]>;

const f32 = (...views: (View | null)[]) => views.every((v) => v === null || v.storage.dtype === 'float32');

/** The decode kernels' flag for the FFN's non-linearity: 0 ReLU, 1 exact GELU (erf), 2 GELU's tanh form. */
const geluFlag = (a: BlockSpec['activation']): number => (a === 'relu' ? 0 : a === 'gelu' ? 1 : 2);

/** A block's 12 weights in the order native/wasm/exports-fused.c's decodeBlock takes them. */
function blockWeightViews(w: BlockWeights): (View | null)[] {
  return [w.inProjWeight, w.inProjBias, w.outProjWeight, w.outProjBias, w.norm1Weight, w.norm1Bias, w.norm2Weight, w.norm2Bias,
    w.linear1Weight, w.linear1Bias, w.linear2Weight, w.linear2Bias];
}

/** decodeStack's meta: 15 numbers, then one offset per array. */
const STACK_HEAD = 15;

/** What decodeStack checks once per weights object: the arrays after out and ids (caches as null), and the sizes. Null: no kernel for them. */
interface StackPlan {
  views: (View | null)[];
  D: number;
  R: number;
  V: number;
  F: number;
  L: number;
}
const stackPlans = new WeakMap<StackWeights, StackPlan | null>();

function stackPlan(w: StackWeights): StackPlan | null {
  const L = w.blocks.length;
  const views: (View | null)[] = [w.tokenEmbedding, w.positionEmbedding, w.finalNorm?.weight ?? null, w.finalNorm?.bias ?? null, w.head];
  for (let l = 0; l < L; l++) views.push(null, null, ...blockWeightViews(w.blocks[l]));
  if (!views.every((t) => t === null || (t.storage.dtype === 'float32' && isContiguous(t.layout)))) return null;
  const [R, D] = w.tokenEmbedding.layout.shape;
  const [V, hd] = w.head.layout.shape;
  const F = w.blocks[0]?.linear1Weight.layout.shape[0];
  const pos = w.positionEmbedding?.layout.shape;
  const is2 = (t: View, r: number, c: number) => t.layout.shape.length === 2 && t.layout.shape[0] === r && t.layout.shape[1] === c;
  const uniform = w.blocks.every((b) => is2(b.inProjWeight, 3 * D, D) && is2(b.linear1Weight, F, D) && is2(b.linear2Weight, D, F));
  if (L < 1 || !uniform || hd !== D || (pos && pos[1] !== D)) {
    throw new ShapeError(`decodeStack: embedding [${R}, ${D}], head [${V}, ${hd}], positions [${pos?.join(', ') ?? ''}] and ${L} blocks ` +
      `do not fit [R, D], [V, D], [P, D] and at least one block, each with in_proj [3D, D], linear1 [F, D] and linear2 [D, F] of one F`);
  }
  const method = 'decodeStack';
  check.checkView(method, 'tokenEmbedding', w.tokenEmbedding, [R, D]);
  check.checkView(method, 'head', w.head, [V, D]);
  if (w.positionEmbedding) check.checkView(method, 'positionEmbedding', w.positionEmbedding, [pos![0], D]);
  if (w.finalNorm) for (const t of [w.finalNorm.weight, w.finalNorm.bias]) check.checkView(method, 'finalNorm', t, [D]);
  for (const b of w.blocks) check.checkBlockWeights(method, b, D, F);
  return { views, D, R, V, F, L };
}

/** The fused methods over the module's exports (this: the backend, for the copies they make). */
export function fusedMethods(c: WasmCalls): Fused {
  const { ex, mem } = c;
  const methods: Fused & ThisType<Backend> = {
    softmax(x) {
      check.checkSoftmax(x);
      if (x.storage.dtype !== 'float32') return null;
      const shape = x.layout.shape;
      if (shape.length === 0 || shape[shape.length - 1] === 0) return null;
      const out = c.out('float32', numel(shape));
      c.check('softmax', ex.qkv_w_softmax(...c.f32(out), ...c.f32(x.storage), ...c.meta(meta(shape, [x.layout]))));
      return out;
    },

    layerNorm(x, weight, bias, eps) {
      check.checkLayerNorm(x, weight, bias, eps);
      const shape = x.layout.shape;
      if (!f32(x, weight, bias) || shape.length === 0 || shape[shape.length - 1] === 0) return null;
      const n = numel(shape);
      const rows = n / shape[shape.length - 1];
      const [w, b] = [weight, bias].map((p) => (p ? contiguous(this, p) : null));
      const y = c.out('float32', n);
      const mean = c.out('float32', rows);
      const rstd = c.out('float32', rows);
      c.check('layerNorm', ex.qkv_w_layer_norm(...c.f32(y), ...c.f32(mean), ...c.f32(rstd), ...c.f32(x.storage), ...c.meta(meta(shape, [x.layout])),
        ...c.at(w), ...c.at(b), eps));
      if (w) c.drop(w, weight!);
      if (b) c.drop(b, bias!);
      return { y, mean, rstd };
    },

    dropoutMask(n, p, scale, key) {
      check.checkDropoutMask(n, p, scale, key);
      const mask = c.out('float32', n);
      c.check('dropoutMask', ex.qkv_w_dropout_mask(...c.f32(mask), ...c.meta([n, p * 4294967296, scale, key[0] >>> 0, key[1] >>> 0])));
      return mask;
    },

    layerNormBackward(x, g, mean, rstd, weight) {
      check.checkLayerNormBackward(x, g, mean, rstd, weight);
      const shape = x.layout.shape;
      if (!f32(x, g, weight) || shape.length === 0) return null;
      const n = shape[shape.length - 1];
      const rows = n === 0 ? 0 : numel(shape) / n;
      const [xs, gs] = [contiguous(this, x), contiguous(this, g)];
      const w = weight ? contiguous(this, weight) : null;
      const dx = c.out('float32', rows * n);
      const dw = c.zeros('float32', n);
      const db = c.zeros('float32', n);
      c.check('layerNormBackward', ex.qkv_w_layer_norm_backward(...c.f32(dx), ...c.f32(dw), ...c.f32(db), ...c.f32(xs.storage), ...c.f32(gs.storage),
        ...c.f32(mean), ...c.f32(rstd), ...c.at(w), ...c.meta([rows, n, xs.layout.offset, gs.layout.offset])));
      c.drop(xs, x);
      c.drop(gs, g);
      if (w) c.drop(w, weight!);
      return { dx, dweight: dw, dbias: db };
    },

    attention(q, k, v, mask, scale, tokenMajor = false) {
      check.checkAttention(q, k, v, mask, scale);
      if (!f32(q, k, v) || q.layout.shape.length !== 4) return null;
      const [qc, kc, vc] = [q, k, v].map((x) => rowsContiguous(this, x));
      const [B, H, T] = q.layout.shape;
      const Vd = v.layout.shape[3];
      const mv = maskView(this, mask);
      const out = c.out('float32', B * H * T * Vd);
      const lse = c.out('float32', B * H * T);
      const o = headsView(out, B, H, T, Vd, tokenMajor);
      c.check('attention', ex.qkv_w_attention(...c.f32(out), ...c.f32(lse), ...c.f32(qc.storage), ...c.f32(kc.storage), ...c.f32(vc.storage),
        ...(mv ? c.buf(mv.storage) : [0, 0, 0]), ...c.meta(attentionMeta(qc, kc, vc, mv, scale, [o, o, o, o, o]))));
      for (const [made, original] of [[qc, q], [kc, k], [vc, v], [mv, mask]] as const) if (made && original) c.drop(made, original);
      return { out, lse };
    },

    attentionBackward(q, k, v, mask, scale, out, lse, dout, opts = {}) {
      check.checkAttentionBackward(q, k, v, mask, scale, out, lse, dout, opts.into);
      const [qc, kc, vc] = [q, k, v].map((x) => rowsContiguous(this, x));
      // dout's rows apart (a broadcast gradient, rows at stride 0, is copied out); the kernel reads it at its strides.
      const gs = dout.layout.strides;
      const gc = gs[3] === 1 && gs[2] >= dout.layout.shape[3] && gs[1] >= 0 && gs[0] >= 0 ? dout : contiguousCopy(this, dout);
      const [B, H, T, K] = q.layout.shape;
      const S = k.layout.shape[2];
      const Vd = v.layout.shape[3];
      const mv = maskView(this, mask);
      const fresh = (rows: number, d: number) => headsView(c.out('float32', B * H * rows * d), B, H, rows, d, false);
      const { dq, dk, dv } = opts.into ?? { dq: fresh(T, K), dk: fresh(S, K), dv: fresh(S, Vd) };
      const o = headsView(out, B, H, T, Vd, opts.tokenMajor ?? false);
      c.check('attentionBackward', ex.qkv_w_attention_backward(...c.f32(dq.storage), ...c.f32(dk.storage), ...c.f32(dv.storage), ...c.f32(gc.storage),
        ...c.f32(out), ...c.f32(lse), ...c.f32(qc.storage), ...c.f32(kc.storage), ...c.f32(vc.storage), ...(mv ? c.buf(mv.storage) : [0, 0, 0]),
        ...c.meta(attentionMeta(qc, kc, vc, mv, scale, [o, gc, dq, dk, dv]))));
      for (const [made, original] of [[qc, q], [kc, k], [vc, v], [gc, dout], [mv, mask]] as const) if (made && original) c.drop(made, original);
      return { dq: dq.storage, dk: dk.storage, dv: dv.storage };
    },

    crossEntropy(logits, targets, ignoreIndex, labelSmoothing) {
      check.checkCrossEntropy('crossEntropy', logits, targets, ignoreIndex, labelSmoothing);
      if (!f32(logits) || logits.layout.shape.length !== 2) return null;
      const x = rowsContiguous(this, logits);
      const [N, V] = x.layout.shape;
      const t = idsView(this, targets);
      const lse = c.out('float32', N);
      const status = ex.qkv_w_cross_entropy(...c.f32(lse), ...c.f32(x.storage), ...c.f32(t.storage),
        ...c.meta([N, V, x.layout.offset, x.layout.strides[0], ignoreIndex, labelSmoothing, t.layout.offset]));
      badTarget(c, 'crossEntropy', status, t, V, ignoreIndex);
      const sum = ex.qkv_w_result();
      c.drop(x, logits);
      c.drop(t, targets);
      return { sum, lse };
    },

    crossEntropyBackward(logits, targets, lse, ignoreIndex, labelSmoothing, scale) {
      check.checkCrossEntropyBackward(logits, targets, lse, ignoreIndex, labelSmoothing, scale);
      const x = rowsContiguous(this, logits);
      const [N, V] = x.layout.shape;
      const t = idsView(this, targets);
      const dx = c.out('float32', N * V);
      const status = ex.qkv_w_cross_entropy_backward(...c.f32(dx), ...c.f32(x.storage), ...c.f32(lse), ...c.f32(t.storage),
        ...c.meta([N, V, x.layout.offset, x.layout.strides[0], ignoreIndex, labelSmoothing, t.layout.offset, scale]));
      badTarget(c, 'crossEntropyBackward', status, t, V, ignoreIndex);
      c.drop(x, logits);
      c.drop(t, targets);
      return dx;
    },

    gelu(x, approximate) {
      check.checkGelu('gelu', x, approximate);
      if (!f32(x)) return null;
      const n = numel(x.layout.shape);
      const xs = flatF32(this, x);
      const out = c.out('float32', n);
      c.check('gelu', ex.qkv_w_gelu(...c.f32(out), ...c.f32(xs.storage), ...c.meta([xs.layout.offset, n, approximate === 'tanh' ? 1 : 0])));
      c.drop(xs, x);
      return out;
    },

    geluBackward(x, g, approximate) {
      check.checkGelu('geluBackward', x, approximate, g);
      const n = numel(x.layout.shape);
      const [xs, gs] = [flatF32(this, x), flatF32(this, g)];
      const dx = c.out('float32', n);
      c.check('geluBackward', ex.qkv_w_gelu_backward(...c.f32(dx), ...c.f32(xs.storage), ...c.f32(gs.storage),
        ...c.meta([xs.layout.offset, gs.layout.offset, n, approximate === 'tanh' ? 1 : 0])));
      c.drop(xs, x);
      c.drop(gs, g);
      return dx;
    },

    adamUpdate(param, grad, m, v, hp) {
      check.checkAdam(param, grad, m, v, hp);
      const n = numel(param.layout.shape);
      if (!f32(param, grad) || m.dtype !== 'float32' || v.dtype !== 'float32' || m.length !== n || v.length !== n || !isContiguous(param.layout)) return false;
      const g = flatF32(this, grad);
      c.check('adamUpdate', ex.qkv_w_adam(...c.f32(param.storage), ...c.f32(g.storage), ...c.f32(m), ...c.f32(v), ...c.meta([
        param.layout.offset, g.layout.offset, n, hp.lr, hp.beta1, hp.beta2, hp.eps, hp.weightDecay, hp.decoupled ? 1 : 0, hp.stepSize, hp.bias2Sqrt,
      ])));
      c.drop(g, grad);
      return true;
    },

    decodeBlock(x, w, k, v, s0, spec) {
      for (const [name, t] of [['x', x], ['k', k], ['v', v]] as const) check.checkView('decodeBlock', name, t);
      const ws = blockWeightViews(w);
      const all = [x, k, v, ...ws];
      if (!all.every((t) => t === null || (t.storage.dtype === 'float32' && isContiguous(t.layout)))) return null;
      const [B, D] = x.layout.shape;
      const H = spec.heads;
      const [kb, kh, maxLen, kk] = k.layout.shape;
      const fits = (t: View) => t.layout.shape.length === 4 && t.layout.shape.every((d, i) => d === k.layout.shape[i]);
      if (x.layout.shape.length !== 2 || kb !== B || kh !== H || kk * H !== D || !fits(v) || !(s0 >= 0 && s0 < maxLen)) {
        throw new ShapeError(`decodeBlock: x [${x.layout.shape.join(', ')}] and caches [${k.layout.shape.join(', ')}], [${v.layout.shape.join(', ')}] at position ${s0} do not fit [B, D] and [B, ${H}, maxLen > ${s0}, D/${H}]`);
      }
      const F = w.linear1Weight.layout.shape[0];
      check.checkBlockWeights('decodeBlock', w, D, F);
      const out = c.out('float32', B * D);
      const arrays = [...c.f32(out)];
      for (const t of all) arrays.push(...(t ? c.f32(t.storage) : [0, 0]));
      const m = [B, D, H, F, maxLen, s0, spec.normFirst ? 1 : 0, geluFlag(spec.activation), spec.eps, ...all.map((t) => t?.layout.offset ?? 0)];
      const [ap] = c.meta(arrays, 64);
      c.check('decodeBlock', ex.qkv_w_decode_block(...c.meta(m), ap, 16));
      return out;
    },

    decodeStack(ids, w, caches, s0, spec) {
      let plan = stackPlans.get(w);
      if (plan === undefined) stackPlans.set(w, (plan = stackPlan(w)));
      if (!plan) return null;
      const { views, D, R, V, F, L } = plan;
      check.checkView('decodeStack', 'ids', ids);
      if (ids.storage.dtype !== 'int32') throw new ArgumentError(`backend.decodeStack: ids are ${ids.storage.dtype}, expected int32`);
      for (const cv of caches) for (const t of [cv.k, cv.v]) check.checkView('decodeStack', 'a cache', t);
      const B = ids.layout.shape[0];
      const H = spec.heads;
      const c0 = caches[0]?.k.layout.shape ?? [];
      const pos = w.positionEmbedding?.layout.shape;
      const fits = (t: View) => t.layout.shape.length === 4 && t.layout.shape.every((d, i) => d === c0[i]);
      if (caches.length !== L || ids.layout.shape.length !== 1 || c0[0] !== B || c0[1] !== H || c0[3] * H !== D ||
          !caches.every((cv) => fits(cv.k) && fits(cv.v)) || !(s0 >= 0 && s0 < c0[2]) || (pos && pos[0] <= s0)) {
        throw new ShapeError(`decodeStack: ids [${ids.layout.shape.join(', ')}], ${caches.length} caches like [${c0.join(', ')}] for ${L} ` +
          `blocks, positions [${pos?.join(', ') ?? ''}] at position ${s0} do not fit [B], one [B, ${H}, maxLen > ${s0}, ${D}/${H}] ` +
          `pair per block, [P > ${s0}, ${D}]`);
      }
      if (!caches.every(({ k, v }) => f32(k, v) && isContiguous(k.layout) && isContiguous(v.layout))) return null;
      const iv = idsView(this, ids);
      const all = views.slice();
      for (let l = 0; l < L; l++) {
        all[5 + 14 * l] = caches[l].k;
        all[6 + 14 * l] = caches[l].v;
      }
      const out = c.out('float32', B * V);
      const arrays = [...c.f32(out), ...c.f32(iv.storage)];
      for (const t of all) arrays.push(...(t ? c.f32(t.storage) : [0, 0]));
      const m = [B, D, H, F, L, c0[2], s0, R, V, spec.normFirst ? 1 : 0, geluFlag(spec.activation), w.finalNorm ? 1 : 0, spec.eps,
        w.finalNorm?.eps ?? 0, iv.layout.offset, ...all.map((t) => t?.layout.offset ?? 0)];
      const [ap, na] = c.meta(arrays, STACK_HEAD + all.length + 8);
      const status = ex.qkv_w_decode_stack(...c.meta(m), ap, na / 2);
      if (status === STATUS.badTarget) {
        const b = ex.qkv_w_result_index();
        throw new ArgumentError(`decodeStack: id ${mem.view(c.s(iv.storage))[iv.layout.offset + b]} at position ${b} is out of range [0, ${R})`);
      }
      c.check('decodeStack', status);
      c.drop(iv, ids);
      return out;
    },

    // A Linear layer: C checks every array against the sizes and strides in meta.
    linear(x, w, bias, activation) {
      check.checkLinear(x, w, bias, activation);
      if (!f32(x, w, bias) || x.layout.shape.length !== 2 || w.layout.shape.length !== 2) return null;
      const [M, K] = x.layout.shape;
      const N = w.layout.shape[0];
      const [xs, ws] = [x.layout.strides, w.layout.strides];
      const b = bias ? contiguous(this, bias) : null;
      const y = c.out('float32', M * N);
      c.check('linear', ex.qkv_w_linear(...c.f32(y), ...c.f32(x.storage), ...c.f32(w.storage), ...c.at(b),
        ...c.meta([M, N, K, x.layout.offset, xs[0], xs[1], w.layout.offset, ws[0], ws[1], 0, activation === 'relu' ? 1 : 0])));
      if (b) c.drop(b, bias!);
      return y;
    },

    linearBackward(x, w, g, y, want) {
      check.checkLinearBackward(x, w, g, y);
      const [M, K] = x.layout.shape;
      const N = w.layout.shape[0];
      const [xs, ws, gs] = [x.layout.strides, w.layout.strides, g.layout.strides];
      const f = (n: number) => c.out('float32', n);
      const [dx, dw, db] = [want.dx ? f(M * K) : null, want.dweight ? f(N * K) : null, want.dbias ? f(N) : null];
      const gmask = y ? f(M * N) : null;
      c.check('linearBackward', ex.qkv_w_linear_backward(...c.f32(dx), ...c.f32(dw), ...c.f32(db), ...c.f32(g.storage), ...c.f32(x.storage),
        ...c.f32(w.storage), ...c.f32(y), ...c.f32(gmask),
        ...c.meta([M, N, K, x.layout.offset, xs[0], xs[1], w.layout.offset, ws[0], ws[1], g.layout.offset, gs[0], gs[1]])));
      if (gmask) mem.free(gmask);
      return { dx, dweight: dw, dbias: db };
    },
  };
  return methods;
}

/** The mask as float32 or int32 storage (any other dtype cast to float32, laid out contiguously), or null. */
function maskView(backend: Backend, mask: View | null): View | null {
  if (!mask) return null;
  const d = mask.storage.dtype;
  if (d === 'float32' || d === 'int32') return mask;
  return { storage: backend.copy(mask, 'float32'), layout: { shape: mask.layout.shape, strides: contiguousStrides(mask.layout.shape), offset: 0 } };
}

/** A cross-entropy kernel's status: a target out of range becomes an ArgumentError naming it, as native's. */
function badTarget(c: WasmCalls, fn: string, status: number, t: View, V: number, ignore: number): void {
  if (status === STATUS.badTarget) {
    const at = c.ex.qkv_w_result_index();
    const target = c.mem.view(c.s(t.storage))[t.layout.offset + at];
    throw new ArgumentError(`backend.${fn}: target ${target} at position ${at} is outside [0, ${V}) and is not ignoreIndex ${ignore}`);
  }
  c.check(fn, status);
}
