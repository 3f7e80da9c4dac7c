// Fused kernels behind softmax and layerNorm: used when the tensor's backend offers one for the case
// at hand (native, float32, last axis). The composed versions in functional.ts stay the definition
// and the test oracle (test/backend/native.test.ts compares the two, forward and backward).

import { Tensor } from '../tensor.js';
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
