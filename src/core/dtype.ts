// Element types: float32 (the default), float64 (for gradient checks on ref), int32 (token ids).

import { DTypeError } from './errors.js';

export type DType = 'float32' | 'float64' | 'int32';
export type FloatDType = 'float32' | 'float64';
export type TypedArray = Float32Array | Float64Array | Int32Array;

/** Bytes per element. */
export function dtypeSize(dtype: DType): number {
  return dtype === 'float64' ? 8 : 4;
}

export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype === 'float32' || dtype === 'float64';
}

/** A zero-filled typed array of `dtype` with `length` elements. */
export function allocArray(dtype: DType, length: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(length);
    case 'float64': return new Float64Array(length);
    case 'int32': return new Int32Array(length);
  }
}

/** The dtype of a typed array. */
export function dtypeOf(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  return 'int32';
}

/** Throws unless the two dtypes agree (qkv never promotes silently). */
export function assertSameDType(op: string, a: DType, b: DType): void {
  if (a !== b) throw new DTypeError(`${op}: dtypes differ (${a} vs ${b}); cast one with .to('${a}')`);
}

export function assertFloat(op: string, dtype: DType): void {
  if (!isFloat(dtype)) throw new DTypeError(`${op}: expected a float tensor, got ${dtype}`);
}
