// Element-wise ops, each forward beside its backward; binary ops broadcast like numpy.

import type { BinaryOp, UnaryOp } from '../../backend/backend.js';
import { DType, allocArray, assertFloat, assertSameDType, isFloat } from '../../core/dtype.js';
import { broadcastLayouts, contiguousLayout } from '../../core/layout.js';
import { Tensor, TensorLike } from '../tensor.js';
import { sumToShape } from './reduce.js';

/** A 0-d tensor holding `value`, on `like`'s backend and dtype. */
export function scalarLike(like: Tensor, value: number): Tensor {
  const arr = allocArray(like.dtype, 1);
  arr[0] = value;
  return Tensor.fromStorage(like.backend.fromArray(arr), [], like.backend);
}

export function onesLike(t: Tensor): Tensor {
  return scalarLike(t, 1).expand(t.shape).contiguous();
}

export function zerosLike(t: Tensor): Tensor {
  return Tensor.fromStorage(t.backend.alloc(t.dtype, t.size), t.shape, t.backend);
}

function lift(like: Tensor, o: TensorLike): Tensor {
  return typeof o === 'number' ? scalarLike(like, o) : o;
}

function binaryForward(op: BinaryOp, a: Tensor, b: Tensor): [Tensor['storage'], number[]] {
  assertSameDType(op, a.dtype, b.dtype);
  const [la, lb, shape] = broadcastLayouts(a.layout, b.layout, op);
  const s = a.backend.binary(op, { storage: a.storage, layout: la }, { storage: b.storage, layout: lb });
  return [s, shape];
}

function binary(op: BinaryOp, a: Tensor, o: TensorLike, backward: (g: Tensor, a: Tensor, b: Tensor) => [Tensor | null, Tensor | null]): Tensor {
  const b = lift(a, o);
  const [s, shape] = binaryForward(op, a, b);
  return Tensor.result(op, s, shape, [a, b], (g) => {
    const [ga, gb] = backward(g, a, b);
    return [ga && sumToShape(ga, a.shape), gb && sumToShape(gb, b.shape)];
  }, a.backend);
}

export function add(a: Tensor, o: TensorLike): Tensor {
  return binary('add', a, o, (g) => [g, g]);
}

export function sub(a: Tensor, o: TensorLike): Tensor {
  return binary('sub', a, o, (g) => [g, g.neg()]);
}

export function mul(a: Tensor, o: TensorLike): Tensor {
  return binary('mul', a, o, (g, x, y) => [g.mul(y), g.mul(x)]);
}

export function div(a: Tensor, o: TensorLike): Tensor {
  // d(x/y)/dx = 1/y, d(x/y)/dy = -x/y²
  return binary('div', a, o, (g, x, y) => [g.div(y), g.mul(x).div(y.mul(y)).neg()]);
}

export function pow(a: Tensor, o: TensorLike): Tensor {
  // d(x^y)/dx = y·x^(y-1), d(x^y)/dy = x^y·ln x
  return binary('pow', a, o, (g, x, y) => [
    g.mul(y).mul(x.pow(y.sub(1))),
    y.requiresGrad ? g.mul(x.pow(y)).mul(x.log()) : null,
  ]);
}

export function maximum(a: Tensor, o: TensorLike): Tensor {
  // The gradient goes to the larger input; ties split it evenly, as torch.maximum does.
  return binary('max', a, o, (g, x, y) => {
    const half = x.eq(y).mul(0.5);
    return [g.mul(x.gt(y).add(half)), g.mul(y.gt(x).add(half))];
  });
}

export function minimum(a: Tensor, o: TensorLike): Tensor {
  return binary('min', a, o, (g, x, y) => {
    const half = x.eq(y).mul(0.5);
    return [g.mul(x.lt(y).add(half)), g.mul(y.lt(x).add(half))];
  });
}

/** 1 where the comparison holds, else 0, in the operands' dtype; no gradient. */
export function compare(op: 'eq' | 'lt' | 'gt', a: Tensor, o: TensorLike): Tensor {
  const [s, shape] = binaryForward(op, a, lift(a, o));
  return Tensor.fromStorage(s, shape, a.backend);
}

function unary(op: UnaryOp, x: Tensor, backward: (g: Tensor, y: Tensor) => Tensor): Tensor {
  if (op !== 'neg' && op !== 'abs' && op !== 'relu' && op !== 'step') assertFloat(op, x.dtype);
  const s = x.backend.unary(op, x);
  const out: Tensor = Tensor.result(op, s, x.shape, [x], (g) => [backward(g, out)], x.backend);
  return out;
}

export function neg(x: Tensor): Tensor {
  return unary('neg', x, (g) => g.neg());
}

export function exp(x: Tensor): Tensor {
  return unary('exp', x, (g, y) => g.mul(y.detach()));
}

export function log(x: Tensor): Tensor {
  return unary('log', x, (g) => g.div(x));
}

export function sqrt(x: Tensor): Tensor {
  // d√x/dx = 1 / (2√x)
  return unary('sqrt', x, (g, y) => g.div(y.detach().mul(2)));
}

export function tanh(x: Tensor): Tensor {
  // d tanh/dx = 1 - tanh²
  return unary('tanh', x, (g, y) => { const t = y.detach(); return g.mul(scalarLike(t, 1).sub(t.mul(t))); });
}

export function relu(x: Tensor): Tensor {
  return unary('relu', x, (g) => g.mul(Tensor.fromStorage(x.backend.unary('step', x), x.shape, x.backend)));
}

export function erf(x: Tensor): Tensor {
  // d erf/dx = 2/√π · e^{-x²}
  return unary('erf', x, (g) => g.mul(x.mul(x).neg().exp().mul(2 / Math.sqrt(Math.PI))));
}

export function abs(x: Tensor): Tensor {
  return unary('abs', x, (g) => g.mul(x.gt(0).sub(x.lt(0))));
}

/** σ(x) = 1 / (1 + e^{-x}), composed. */
export function sigmoid(x: Tensor): Tensor {
  return scalarLike(x, 1).div(x.neg().exp().add(1));
}

/** Cast to `dtype`; the gradient is cast back when both are float. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (dtype === x.dtype) return x;
  const s = x.backend.copy(x, dtype);
  const out = Tensor.fromStorage(s, x.shape, x.backend);
  if (!isFloat(dtype) || !isFloat(x.dtype)) return out;
  return Tensor.track('cast', out, [x], (g) => [cast(g, x.dtype)]);
}

/** A contiguous layout for a shape (re-exported for ops that allocate). */
export { contiguousLayout };
