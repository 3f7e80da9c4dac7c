// Layouts: how a view (shape, strides, offset) maps onto flat storage. Views never copy.

import { ShapeError, fmtShape } from './errors.js';
import { Shape, broadcastShapes, contiguousStrides, numel, shapesEqual } from './shape.js';

/** A view of flat storage: element [i0, i1, ...] lives at offset + Σ ik·strides[k]. */
export interface Layout {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

export function contiguousLayout(shape: Shape): Layout {
  return { shape: [...shape], strides: contiguousStrides(shape), offset: 0 };
}

/** True when the layout walks its storage in row-major order with no gaps (offset may be non-zero). */
export function isContiguous(l: Layout): boolean {
  let s = 1;
  for (let i = l.shape.length - 1; i >= 0; i--) {
    if (l.shape[i] !== 1 && l.strides[i] !== s) return false;
    s *= l.shape[i];
  }
  return true;
}

/** Broadcasts a layout to a larger shape by giving new or size-1 axes stride 0. */
export function expandLayout(l: Layout, shape: Shape): Layout {
  const n = shape.length;
  if (n < l.shape.length) throw new ShapeError(`expand: cannot expand ${fmtShape(l.shape)} to fewer dims ${fmtShape(shape)}`);
  const strides = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const j = i - (n - l.shape.length);
    const d = j >= 0 ? l.shape[j] : 1;
    if (d === shape[i]) strides[i] = j >= 0 ? l.strides[j] : 0;
    else if (d === 1) strides[i] = 0;
    else throw new ShapeError(`expand: cannot expand ${fmtShape(l.shape)} to ${fmtShape(shape)} (axis ${i}: ${d} vs ${shape[i]})`);
  }
  return { shape: [...shape], strides, offset: l.offset };
}

export function permuteLayout(l: Layout, axes: readonly number[]): Layout {
  return { shape: axes.map((a) => l.shape[a]), strides: axes.map((a) => l.strides[a]), offset: l.offset };
}

/** Narrows `axis` to [start, start+length). */
export function narrowLayout(l: Layout, axis: number, start: number, length: number): Layout {
  const shape = [...l.shape];
  shape[axis] = length;
  return { shape, strides: [...l.strides], offset: l.offset + start * l.strides[axis] };
}

/**
 * Reshapes without copying when the strides allow it; returns null when a copy is needed
 * (the same rule as torch.Tensor.view).
 */
export function reshapeLayout(l: Layout, shape: Shape): Layout | null {
  if (isContiguous(l)) return { shape: [...shape], strides: contiguousStrides(shape), offset: l.offset };
  // Group old dims into chunks that are contiguous among themselves, then split each chunk.
  const oldShape = l.shape.filter((d) => d !== 1);
  const oldStrides = l.strides.filter((_, i) => l.shape[i] !== 1);
  const newStrides = new Array<number>(shape.length).fill(0);
  let oi = 0;
  let ni = 0;
  while (ni < shape.length || oi < oldShape.length) {
    if (ni < shape.length && shape[ni] === 1) { newStrides[ni] = 1; ni++; continue; }
    if (oi >= oldShape.length || ni >= shape.length) return null;
    // Take one chunk of old dims whose product equals a run of new dims.
    let oldProd = oldShape[oi];
    let oEnd = oi;
    let newProd = shape[ni];
    let nEnd = ni;
    while (oldProd !== newProd) {
      if (oldProd < newProd) {
        oEnd++;
        if (oEnd >= oldShape.length) return null;
        if (oldStrides[oEnd - 1] !== oldStrides[oEnd] * oldShape[oEnd]) return null;
        oldProd *= oldShape[oEnd];
      } else {
        nEnd++;
        if (nEnd >= shape.length) return null;
        newProd *= shape[nEnd];
      }
    }
    // Chunk is contiguous with innermost stride oldStrides[oEnd].
    let s = oldStrides[oEnd];
    for (let k = nEnd; k >= ni; k--) { newStrides[k] = s; s *= shape[k]; }
    oi = oEnd + 1;
    ni = nEnd + 1;
  }
  return { shape: [...shape], strides: newStrides, offset: l.offset };
}

/** Broadcast layouts of two operands to their common shape. */
export function broadcastLayouts(a: Layout, b: Layout, op: string): [Layout, Layout, number[]] {
  const shape = shapesEqual(a.shape, b.shape) ? [...a.shape] : broadcastShapes(a.shape, b.shape, op);
  return [expandLayout(a, shape), expandLayout(b, shape), shape];
}

/** Number of elements a layout addresses. */
export function layoutSize(l: Layout): number {
  return numel(l.shape);
}
