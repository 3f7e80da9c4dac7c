// Module: named parameters and children, state dicts, train/eval, zeroGrad.
//
// Names are registered explicitly (no reflection over fields) and mirror PyTorch's state_dict
// keys, so `encoder.layers.0.self_attn.in_proj_weight` means the same tensor here and there.

import { ArgumentError, StateDictError, fmtShape } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { shapesEqual } from '../core/shape.js';
import { Tensor, noGrad, tensor } from '../tensor/index.js';

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /**
   * When true (the default) a missing or unexpected name is an error. Wrong shapes and dtypes
   * are errors either way, as in PyTorch.
   */
  strict?: boolean;
}

/** What {@link Module.loadStateDict} did not match (only non-empty when `strict` is false). */
export interface LoadStateDictResult {
  missing: string[];
  unexpected: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Base class of every layer. A subclass registers its parameters and children in its
 * constructor, under the names a PyTorch checkpoint uses.
 *
 * @example
 * class Affine extends Module {
 *   readonly weight = this.addParameter('weight', ones([4]));
 *   readonly bias = this.addParameter('bias', zeros([4]));
 *   forward(x: Tensor): Tensor { return x.mul(this.weight).add(this.bias); }
 * }
 * const m = new Affine();
 * [...m.stateDict().keys()]; // ['weight', 'bias']
 */
export class Module {
  /** True in training mode (dropout active); set with train() and eval(). */
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();
  private readonly rngs = new Map<string, Rng>();

  /** Registers a parameter (marked requireGrad) under `name` and returns it. */
  protected addParameter(name: string, t: Tensor): Tensor {
    this.checkName(name);
    if (!t.requiresGrad) t.requireGrad();
    this.params.set(name, t);
    return t;
  }

  /** Registers a child module under `name` and returns it. */
  protected addModule<M extends Module>(name: string, m: M): M {
    this.checkName(name);
    this.children.set(name, m);
    return m;
  }

  /**
   * Registers a random generator this module draws from while running (dropout masks), so that a
   * checkpoint can save and restore it with {@link Module.rngStates} / {@link Module.setRngStates}.
   */
  protected addRng(name: string, rng: Rng): Rng {
    this.checkName(name);
    this.rngs.set(name, rng);
    return rng;
  }

  private checkName(name: string): void {
    if (!NAME.test(name) && !/^[0-9]+$/.test(name)) {
      throw new ArgumentError(`Module: name '${name}' must be an identifier or an index (no dots)`);
    }
    if (this.params.has(name) || this.children.has(name) || this.rngs.has(name)) {
      throw new ArgumentError(`Module: name '${name}' is already registered on ${this.constructor.name}`);
    }
  }

  /** Direct children with their names, in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /** This module and every descendant, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.children) out.push(...child.namedModules(join(prefix, name)));
    return out;
  }

  /**
   * Every (name, tensor) pair, including aliases of a shared tensor (as torch's state_dict).
   * Order: a module's own parameters, then each child's, in registration order.
   */
  private namedEntries(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, p] of this.params) out.push([join(prefix, name), p]);
    for (const [name, child] of this.children) out.push(...child.namedEntries(join(prefix, name)));
    return out;
  }

  /**
   * Parameters with dotted names, in a deterministic order. A tensor shared between two places
   * (tied embeddings) appears once, under the first name, so an optimizer updates it once.
   */
  namedParameters(): [string, Tensor][] {
    const seen = new Set<Tensor>();
    return this.namedEntries().filter(([, p]) => (seen.has(p) ? false : (seen.add(p), true)));
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Name → parameter, every alias included (as torch's state_dict). The tensors are the live ones. */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedEntries());
  }

  /**
   * Copies values into this module's parameters, in place. Checks everything before copying
   * anything, and throws one StateDictError naming every missing name, unexpected name, and
   * wrong shape or dtype.
   *
   * @example
   * const b = new Linear(4, 2, { rng: new Rng(1) });
   * b.loadStateDict(a.stateDict()); // b now computes what a computes
   */
  loadStateDict(state: ReadonlyMap<string, Tensor>, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    const problems: string[] = [];
    for (const [name, src] of state) {
      const dst = own.get(name);
      if (!dst) continue;
      if (!shapesEqual(src.shape, dst.shape)) problems.push(`${name}: shape ${fmtShape(src.shape)}, expected ${fmtShape(dst.shape)}`);
      else if (src.dtype !== dst.dtype) problems.push(`${name}: dtype ${src.dtype}, expected ${dst.dtype}`);
    }
    // Tied weights are one tensor under several names: a file whose copies differ cannot all be loaded, so it is refused.
    const firstName = new Map<Tensor, string>();
    for (const [name, src] of state) {
      const dst = own.get(name);
      if (!dst || !shapesEqual(src.shape, dst.shape)) continue;
      const prev = firstName.get(dst);
      if (prev === undefined) firstName.set(dst, name);
      else if (!sameValues(state.get(prev)!, src)) problems.push(`${name}: tied to ${prev} (one tensor in the model), but their values in the state differ`);
    }
    if (strict && unexpected.length) problems.unshift(`unexpected: ${unexpected.join(', ')}`);
    if (strict && missing.length) problems.unshift(`missing: ${missing.join(', ')}`);
    if (problems.length) {
      throw new StateDictError(`loadStateDict into ${this.constructor.name}: ${problems.join('; ')}`);
    }
    noGrad(() => {
      for (const [name, src] of state) {
        const dst = own.get(name);
        if (!dst) continue;
        const s = src.backend === dst.backend ? src : tensor(src.toArray(), { shape: src.shape, backend: dst.backend });
        dst.assign(s);
      }
    });
    return { missing, unexpected };
  }

  /**
   * Every registered generator with its dotted name (`dropout.rng`, `encoder.layers.0.self_attn.dropout_rng`...).
   * A generator shared by several modules appears once, under the first name, as namedParameters does.
   */
  namedRngs(): [string, Rng][] {
    const seen = new Set<Rng>();
    const out: [string, Rng][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, rng] of m.rngs) {
        if (!seen.has(rng)) out.push([join(prefix, name), rng]), seen.add(rng);
      }
    }
    return out;
  }

  /**
   * The state of every generator the model draws from (dropout), for a checkpoint that resumes
   * bit for bit. The values are Rng.getState() arrays.
   *
   * @example
   * const saved = model.rngStates();
   * other.setRngStates(saved); // other now draws the same dropout masks as model
   */
  rngStates(): Record<string, number[]> {
    return Object.fromEntries(this.namedRngs().map(([name, rng]) => [name, rng.getState()]));
  }

  /** Restores what rngStates returned. A missing or unexpected name, or a malformed state, throws StateDictError. */
  setRngStates(states: Readonly<Record<string, readonly number[]>>): void {
    const own = new Map(this.namedRngs());
    const missing = [...own.keys()].filter((k) => !Object.hasOwn(states, k));
    const unexpected = Object.keys(states).filter((k) => !own.has(k));
    const bad = Object.entries(states)
      .filter(([, s]) => !Array.isArray(s) || s.length !== 5 || !s.every((x) => typeof x === 'number'))
      .map(([k, s]) => `${k}: ${JSON.stringify(s)}, expected 5 numbers`);
    const problems = [...(missing.length ? [`missing: ${missing.join(', ')}`] : []), ...(unexpected.length ? [`unexpected: ${unexpected.join(', ')}`] : []), ...bad];
    if (problems.length) throw new StateDictError(`setRngStates on ${this.constructor.name}: ${problems.join('; ')}`);
    for (const [name, rng] of own) rng.setState(states[name]);
  }

  /** Sets training mode on this module and every descendant (returns this). */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: dropout off. */
  eval(): this {
    return this.train(false);
  }

  /** Clears the gradient of every parameter. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }
}

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

/**
 * A list of modules named by index (`0`, `1`, ...), as torch.nn.ModuleList.
 *
 * @example
 * const layers = new ModuleList([new Linear(4, 4, { rng }), new Linear(4, 4, { rng })]);
 * [...layers.stateDict().keys()]; // ['0.weight', '0.bias', '1.weight', '1.bias']
 */
export class ModuleList<M extends Module> extends Module {
  private readonly items: M[] = [];

  constructor(items: readonly M[] = []) {
    super();
    for (const m of items) this.append(m);
  }

  append(m: M): M {
    this.addModule(String(this.items.length), m);
    this.items.push(m);
    return m;
  }

  get length(): number {
    return this.items.length;
  }

  at(i: number): M {
    const m = this.items[i];
    if (!m) throw new ArgumentError(`ModuleList: index ${i} out of range [0, ${this.items.length})`);
    return m;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

/** Whether two tensors of one shape hold the same values (NaN equal to NaN). */
function sameValues(a: Tensor, b: Tensor): boolean {
  if (a === b) return true;
  const x = a.toArray();
  const y = b.toArray();
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i] && !(Number.isNaN(x[i]) && Number.isNaN(y[i]))) return false;
  return true;
}
