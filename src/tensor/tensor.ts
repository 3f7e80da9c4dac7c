// The Tensor: a view (layout) of backend storage, plus what autograd needs to know about it.
//
// Memory: a tensor owns nothing it must free by hand. Storage is released when no tensor refers
// to it (the garbage collector for ref; the native backend ties its buffers to the same objects).
// The graph of a training step is reachable only from the loss, so it goes when the loss goes.

import type { Backend, Storage } from '../backend/backend.js';
import { DType, TypedArray } from '../core/dtype.js';
import { ArgumentError, GradError, ShapeError, fmtShape } from '../core/errors.js';
import { Layout, contiguousLayout, isContiguous } from '../core/layout.js';
import { numel } from '../core/shape.js';
import { isGradEnabled, noGrad } from './grad-mode.js';
import * as ew from './ops/elementwise.js';
import * as red from './ops/reduce.js';
import * as sh from './ops/shape.js';
import * as mm from './ops/matmul.js';
import * as ix from './ops/index.js';

/** Storages that Tensor.assign refuses to write (Tensor.markReadOnly). */
const readOnlyStorages = new WeakSet<Storage>();

/** How a tensor was computed: its inputs and the function that maps its gradient to theirs. */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Gradients for each input (null where an input needs none), given the output's gradient. */
  readonly backward: (grad: Tensor) => (Tensor | null)[];
  /**
   * Set by narrow: the output is this slice of its one input. The backward pass then adds the
   * gradient into that slice of the input's pending gradient in place, instead of calling
   * `backward` (which makes a zero tensor of the input's size per slice: T slices of one tensor,
   * as a recurrence takes, would cost O(T²)).
   */
  readonly slice?: { readonly axis: number; readonly start: number; readonly length: number };
}

/** A number or a tensor: scalars broadcast like 0-d tensors of the other operand's dtype. */
export type TensorLike = Tensor | number;

export class Tensor {
  /** True for leaves whose gradient is wanted, and for anything computed from them. */
  requiresGrad = false;
  /** Accumulated gradient of a leaf after backward(). */
  grad: Tensor | null = null;
  /** How this tensor was made (null for leaves and for results computed under noGrad). */
  node: GradNode | null = null;

  constructor(
    readonly storage: Storage,
    readonly layout: Layout,
    readonly backend: Backend,
  ) {}

  /** Wraps freshly computed contiguous storage. */
  static fromStorage(storage: Storage, shape: readonly number[], backend: Backend): Tensor {
    if (numel(shape) !== storage.length) {
      throw new ShapeError(`Tensor: shape ${fmtShape(shape)} needs ${numel(shape)} elements, storage has ${storage.length}`);
    }
    return new Tensor(storage, contiguousLayout(shape), backend);
  }

  /**
   * The result of an op: attaches the backward closure when any input needs a gradient and
   * grad mode is on. Every op in ops/ ends with this.
   */
  static result(op: string, storage: Storage, shape: readonly number[], inputs: readonly Tensor[], backward: GradNode['backward'], backend: Backend): Tensor {
    return Tensor.track(op, Tensor.fromStorage(storage, shape, backend), inputs, backward);
  }

  /** Attaches a grad node to a tensor (used directly by views, which share storage). */
  static track(op: string, out: Tensor, inputs: readonly Tensor[], backward: GradNode['backward']): Tensor {
    if (isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
      out.requiresGrad = true;
      out.node = { op, inputs, backward };
    }
    return out;
  }

  get shape(): readonly number[] { return this.layout.shape; }
  get ndim(): number { return this.layout.shape.length; }
  get size(): number { return numel(this.layout.shape); }
  get dtype(): DType { return this.storage.dtype; }
  get isContiguous(): boolean { return isContiguous(this.layout); }

  /** Size of one axis (negative counts from the end). */
  dim(axis: number): number {
    return this.shape[axis < 0 ? axis + this.ndim : axis];
  }

  /** A contiguous copy of the values, row-major. */
  toArray(): TypedArray {
    return this.backend.toArray(this);
  }

  /** Values as nested JavaScript arrays, for printing and tests. */
  toList(): unknown {
    const flat = Array.from(this.toArray());
    const build = (dim: number, off: number): unknown => {
      if (dim === this.ndim) return flat[off];
      const stride = numel(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, off + i * stride));
    };
    return build(0, 0);
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item: tensor of shape ${fmtShape(this.shape)} has ${this.size} elements, expected 1`);
    return this.toArray()[0];
  }

  /**
   * Marks this tensor's memory as read-only for good (returns this): {@link assign} through it or any view of it
   * throws. For memory shared between calls (sharedCausalMask), whose values callers rely on without reading them.
   *
   * @example
   * const m = tensor([0, 1]).markReadOnly();
   * m.isReadOnly; // true; m.assign(tensor([1, 1])) throws
   */
  markReadOnly(): this {
    readOnlyStorages.add(this.storage);
    return this;
  }

  /** Whether this tensor's memory is read-only ({@link markReadOnly}). */
  get isReadOnly(): boolean {
    return readOnlyStorages.has(this.storage);
  }

  /** Marks a leaf as wanting a gradient (returns this, for chaining). */
  requireGrad(flag = true): this {
    if (this.node) throw new GradError('requireGrad: only leaf tensors can be marked; this one was computed by ' + this.node.op);
    this.requiresGrad = flag;
    return this;
  }

  /** The same values, cut off from the graph. */
  detach(): Tensor {
    return new Tensor(this.storage, this.layout, this.backend);
  }

  /**
   * Reverse-mode differentiation from this tensor. Leaves accumulate into .grad, as in PyTorch.
   * A non-scalar needs the gradient of the loss with respect to it.
   */
  backward(grad?: Tensor): void {
    if (!this.requiresGrad) throw new GradError('backward: this tensor does not require grad (no input was marked requireGrad, or it was computed under noGrad)');
    if (!grad && this.size !== 1) throw new GradError(`backward: tensor of shape ${fmtShape(this.shape)} is not a scalar; pass its gradient`);
    if (grad && (grad.dtype !== this.dtype || grad.ndim !== this.ndim || grad.shape.some((d, i) => d !== this.shape[i]))) {
      throw new GradError(`backward: gradient ${fmtShape(grad.shape)} ${grad.dtype} does not match tensor ${fmtShape(this.shape)} ${this.dtype}`);
    }
    const seed = grad ?? ew.onesLike(this);
    noGrad(() => runBackward(this, seed));
  }

  /**
   * Writes `src` (broadcast to this shape) into this tensor's storage, in place, outside autograd. Throws on a
   * read-only tensor ({@link Tensor.markReadOnly}) or a view of one.
   */
  assign(src: Tensor): this {
    if (readOnlyStorages.has(this.storage)) {
      throw new ArgumentError(`assign: this ${fmtShape(this.shape)} tensor's memory is read-only (shared between calls, such as a cached mask); expected a tensor of its own (copy one with .add(0))`);
    }
    const s = src.shape.length === this.ndim && src.shape.every((d, i) => d === this.shape[i]) ? src : src.expand(this.shape);
    this.backend.assign(this, s);
    return this;
  }

  // Element-wise arithmetic (ops/elementwise.ts).
  add(o: TensorLike): Tensor { return ew.add(this, o); }
  sub(o: TensorLike): Tensor { return ew.sub(this, o); }
  mul(o: TensorLike): Tensor { return ew.mul(this, o); }
  div(o: TensorLike): Tensor { return ew.div(this, o); }
  pow(o: TensorLike): Tensor { return ew.pow(this, o); }
  maximum(o: TensorLike): Tensor { return ew.maximum(this, o); }
  minimum(o: TensorLike): Tensor { return ew.minimum(this, o); }
  eq(o: TensorLike): Tensor { return ew.compare('eq', this, o); }
  lt(o: TensorLike): Tensor { return ew.compare('lt', this, o); }
  gt(o: TensorLike): Tensor { return ew.compare('gt', this, o); }
  neg(): Tensor { return ew.neg(this); }
  exp(): Tensor { return ew.exp(this); }
  log(): Tensor { return ew.log(this); }
  sqrt(): Tensor { return ew.sqrt(this); }
  tanh(): Tensor { return ew.tanh(this); }
  relu(): Tensor { return ew.relu(this); }
  erf(): Tensor { return ew.erf(this); }
  abs(): Tensor { return ew.abs(this); }
  sigmoid(): Tensor { return ew.sigmoid(this); }
  /** Cast to another dtype (a copy; gradients flow between float dtypes). */
  to(dtype: DType): Tensor { return ew.cast(this, dtype); }

  // Reductions (ops/reduce.ts).
  sum(axes?: number | readonly number[], keepdim = false): Tensor { return red.sum(this, axes, keepdim); }
  mean(axes?: number | readonly number[], keepdim = false): Tensor { return red.mean(this, axes, keepdim); }
  max(axis: number, keepdim = false): Tensor { return red.max(this, axis, keepdim); }
  argmax(axis: number, keepdim = false): Tensor { return red.argmax(this, axis, keepdim); }

  // Views and copies (ops/shape.ts).
  reshape(shape: readonly number[]): Tensor { return sh.reshape(this, shape); }
  permute(axes: readonly number[]): Tensor { return sh.permute(this, axes); }
  transpose(a = -2, b = -1): Tensor { return sh.transpose(this, a, b); }
  narrow(axis: number, start: number, length: number): Tensor { return sh.narrow(this, axis, start, length); }
  expand(shape: readonly number[]): Tensor { return sh.expand(this, shape); }
  unsqueeze(axis: number): Tensor { return sh.unsqueeze(this, axis); }
  squeeze(axis: number): Tensor { return sh.squeeze(this, axis); }
  contiguous(): Tensor { return sh.contiguous(this); }
  split(sizes: number | readonly number[], axis = 0): Tensor[] { return sh.split(this, sizes, axis); }

  // Linear algebra and indexing.
  matmul(o: Tensor): Tensor { return mm.matmul(this, o); }
  /** Where mask is non-zero, `value`; elsewhere this (mask broadcasts). */
  maskedFill(mask: Tensor, value: number): Tensor { return ix.maskedFill(this, mask, value); }

  toString(): string {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}, ${this.backend.name})`;
  }
}

/** Walks the graph from `root` in reverse topological order, passing gradients to inputs. */
function runBackward(root: Tensor, seed: Tensor): void {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: deep graphs (long training unrolls) must not overflow the stack.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i];
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  const live = new GradStorages(root.backend);
  live.hold(seed);
  // Pending gradients this pass allocated for slices to add into (see GradNode.slice), by input:
  // only such a buffer, while it is still that input's pending gradient, is written in place.
  const sliced = new Map<Tensor, Tensor>();
  for (let k = order.length - 1; k >= 0; k--) {
    const t = order[k];
    const g = grads.get(t);
    if (!g) continue;
    grads.delete(t);
    if (!t.node) {
      t.grad = t.grad ? t.grad.add(g) : g;
      live.keep(t.grad);
      live.drop(g);
      continue;
    }
    if (t.node.slice) {
      addIntoSlice(t.node.inputs[0], g, t.node.slice, grads, sliced, live);
      live.drop(g);
      continue;
    }
    const inGrads = t.node.backward(g);
    const summed: Tensor[] = []; // pending gradients replaced by their sums, and the addends
    t.node.inputs.forEach((input, j) => {
      const gi = inGrads[j];
      if (!gi || !input.requiresGrad) return;
      if (gi.shape.length !== input.ndim || gi.shape.some((d, q) => d !== input.shape[q])) {
        throw new GradError(`backward of ${t.node!.op}: gradient shape ${fmtShape(gi.shape)} does not match input ${fmtShape(input.shape)}`);
      }
      const prev = grads.get(input);
      const sum = prev ? prev.add(gi) : gi;
      grads.set(input, sum);
      live.hold(sum);
      if (prev) summed.push(prev, gi);
    });
    // Only now, once every input's gradient is pending: one gradient may feed several inputs.
    for (let i = 0; i < summed.length; i += 2) {
      live.drop(summed[i]);
      live.dropUnheld(summed[i + 1]);
    }
    live.drop(g);
  }
}

/**
 * Adds g, the gradient of a slice of `input`, into that slice of input's pending gradient: in place
 * when that gradient is a buffer this pass made for slices (and still input's own), else into a fresh
 * zero buffer of input's shape that takes over whatever was pending.
 */
function addIntoSlice(
  input: Tensor, g: Tensor, slice: NonNullable<GradNode['slice']>,
  grads: Map<Tensor, Tensor>, sliced: Map<Tensor, Tensor>, live: GradStorages,
): void {
  if (!input.requiresGrad) return;
  if (g.ndim !== input.ndim || g.shape.some((d, q) => d !== (q === slice.axis ? slice.length : input.shape[q]))) {
    throw new GradError(`backward of narrow: gradient shape ${fmtShape(g.shape)} does not match the slice [${slice.start}, ${slice.start + slice.length}) of axis ${slice.axis} of input ${fmtShape(input.shape)}`);
  }
  let acc = grads.get(input);
  if (!acc || sliced.get(input) !== acc) {
    const fresh = Tensor.fromStorage(input.backend.alloc(g.dtype, input.size), input.shape, input.backend); // zeros
    if (acc) {
      fresh.assign(acc);
      live.drop(acc);
    }
    grads.set(input, fresh);
    sliced.set(input, fresh);
    live.hold(fresh);
    acc = fresh;
  }
  const part = acc.narrow(slice.axis, slice.start, slice.length);
  const sum = part.add(g);
  part.assign(sum);
  live.dropUnheld(sum);
}

/**
 * Which storages the gradients still pending in a backward pass refer to, so that a gradient's
 * memory goes back to the backend (Backend.release, inside a storage scope) as soon as nothing
 * pending or kept refers to it: a gradient is often a view of another (reshape, expand) or passed on
 * unchanged (add), so storages are counted, not tensors. Leaf gradients are kept for good.
 */
class GradStorages {
  private readonly count = new Map<Storage, number>();
  private readonly kept = new Set<Storage>();

  constructor(private readonly backend: Backend) {}

  /** One more pending gradient refers to t's storage. */
  hold(t: Tensor): void {
    this.count.set(t.storage, (this.count.get(t.storage) ?? 0) + 1);
  }

  /** t's storage is a leaf's .grad now: never released here. */
  keep(t: Tensor): void {
    this.kept.add(t.storage);
  }

  /** One pending gradient on t's storage is done with: release the storage when none is left. */
  drop(t: Tensor): void {
    const n = (this.count.get(t.storage) ?? 0) - 1;
    if (n > 0) {
      this.count.set(t.storage, n);
      return;
    }
    this.count.delete(t.storage);
    this.dropUnheld(t);
  }

  /** t, never pending itself, is done with: release its storage unless a pending or kept gradient shares it. */
  dropUnheld(t: Tensor): void {
    if (this.count.has(t.storage) || this.kept.has(t.storage)) return;
    this.backend.release?.(t.storage);
  }
}
