// The Optimizer base: the parameter list, zeroGrad, the update loop, and state save/restore.

import { ArgumentError, StateDictError, fmtShape } from '../core/errors.js';
import { isFloat } from '../core/dtype.js';
import { noGrad } from '../tensor/grad-mode.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * What a checkpoint keeps of an optimizer: the number of steps taken and its per-parameter
 * buffers, keyed `<buffer>.<parameter index>` (`exp_avg.0`, `exp_avg_sq.0`, `momentum_buffer.3`...).
 */
export interface OptimizerState {
  step: number;
  tensors: Map<string, Tensor>;
}

/**
 * Base of every optimizer. Parameters are plain tensors (a module's `parameters()`, or any list).
 * `step()` visits each parameter that has a gradient, asks the subclass for its new value, and
 * writes it into the parameter's own storage, so parameters keep their identity (modules, tied
 * weights and views stay valid).
 *
 * Gradients are never written in place: after backward, two leaves may share one gradient tensor
 * (the gradient of `a + b` goes to both), so mutating one would change the other.
 *
 * The step counter is global, not per parameter as in torch. The two differ only for a parameter
 * whose gradient is null on some steps and not others.
 */
export abstract class Optimizer {
  /** The parameters, in the order given (their indices name the state buffers). */
  readonly params: readonly Tensor[];
  /** Learning rate of the next step; schedules set it before each step. */
  lr: number;
  /** Steps taken so far (the first step is step 1). */
  stepCount = 0;
  /** Per-parameter buffers, keyed `<buffer>.<index>`. */
  protected state = new Map<string, Tensor>();
  /** The buffer names this optimizer keeps (what loadStateDict accepts). */
  protected abstract readonly bufferNames: readonly string[];

  constructor(params: Iterable<Tensor>, lr: number, who: string) {
    this.params = [...params];
    const seen = new Set<Tensor>();
    this.params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new ArgumentError(`${who}: parameter ${i} is ${typeof p}, expected a Tensor`);
      if (!isFloat(p.dtype)) throw new ArgumentError(`${who}: parameter ${i} has dtype ${p.dtype}, expected a float dtype`);
      if (p.node) throw new ArgumentError(`${who}: parameter ${i} was computed by ${p.node.op}; optimizers update leaf tensors only`);
      if (seen.has(p)) throw new ArgumentError(`${who}: parameter ${i} appears twice in the list`);
      seen.add(p);
    });
    checkNonNegative(who, 'lr', lr);
    this.lr = lr;
  }

  /** The tensors kept between steps (the per-parameter buffers, e.g. Adam's moments). */
  stateTensors(): Tensor[] {
    return [...this.state.values()];
  }

  /**
   * The parameters and the state tensors: what lives on past a training step, and so what the
   * step's storage scope keeps (withStorageScope).
   *
   * @example
   * withStorageScope(backend, () => step(batch), () => opt.liveTensors());
   */
  liveTensors(): Tensor[] {
    return [...this.params, ...this.stateTensors()];
  }

  /** Forgets all gradients (sets `.grad` to null), ready for the next backward. */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** One update of every parameter that has a gradient. Parameters with a null grad are skipped. */
  step(): void {
    this.stepCount++;
    noGrad(() => {
      this.params.forEach((p, i) => {
        if (!p.grad) return;
        p.assign(this.update(p, p.grad, i));
      });
    });
  }

  /** The new value of parameter `i`, given its gradient; runs under noGrad. */
  protected abstract update(param: Tensor, grad: Tensor, index: number): Tensor;

  /** A buffer of parameter `index`, or undefined before its first update. */
  protected buffer(name: string, index: number): Tensor | undefined {
    return this.state.get(`${name}.${index}`);
  }

  protected setBuffer(name: string, index: number, value: Tensor): void {
    this.state.set(`${name}.${index}`, value);
  }

  /**
   * The step count and copies of every buffer, for a checkpoint.
   *
   * @example
   * const saved = opt.stateDict();
   * const resumed = new Adam(params, { lr: 1e-3 });
   * resumed.loadStateDict(saved); // continues exactly where `opt` stopped
   */
  stateDict(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    for (const [k, t] of this.state) tensors.set(k, copyOf(t));
    return { step: this.stepCount, tensors };
  }

  /** Restores what stateDict returned. Unknown names and wrong shapes throw StateDictError. */
  loadStateDict(state: OptimizerState): void {
    if (!Number.isInteger(state.step) || state.step < 0) throw new StateDictError(`loadStateDict: step is ${state.step}, expected an integer ≥ 0`);
    const next = new Map<string, Tensor>();
    for (const [key, t] of state.tensors) {
      const m = /^(.+)\.(\d+)$/.exec(key);
      if (!m || !this.bufferNames.includes(m[1])) {
        throw new StateDictError(`loadStateDict: unexpected name '${key}', expected <${this.bufferNames.join('|')}>.<index>`);
      }
      const p = this.params[Number(m[2])];
      if (!p) throw new StateDictError(`loadStateDict: '${key}' names parameter ${m[2]}, but there are ${this.params.length}`);
      if (t.ndim !== p.ndim || t.shape.some((d, q) => d !== p.shape[q])) {
        throw new StateDictError(`loadStateDict: '${key}' has shape ${fmtShape(t.shape)}, expected ${fmtShape(p.shape)}`);
      }
      if (t.dtype !== p.dtype) throw new StateDictError(`loadStateDict: '${key}' has dtype ${t.dtype}, expected ${p.dtype}`);
      next.set(key, copyOf(t));
    }
    this.state = next;
    this.stepCount = state.step;
  }
}

/** Throws unless `value` is a finite number ≥ 0. */
export function checkNonNegative(who: string, name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ArgumentError(`${who}: ${name} is ${value}, expected a finite number ≥ 0`);
  }
}

/** A fresh contiguous copy, cut off from the graph: saved state must not alias live buffers. */
function copyOf(t: Tensor): Tensor {
  return Tensor.fromStorage(t.backend.copy(t), t.shape, t.backend);
}
