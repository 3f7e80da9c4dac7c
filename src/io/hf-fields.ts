// Hugging Face layouts, shared pieces: config.json field readers, and tensor look-ups whose errors name the tensor.

import { MAX_LABELS } from '../core/config-checks.js';
import { FormatError, fmtShape } from '../core/errors.js';
import { jsonPreview } from '../core/preview.js';
import { noGrad } from '../tensor/index.js';
import type { Tensor } from '../tensor/index.js';

/** A config.json object, as parsed. */
export type HFConfig = Record<string, unknown>;

/** What a qkv model becomes in Hugging Face's layout: config.json's object and model.safetensors' tensors. */
export interface HFLayout {
  config: HFConfig;
  tensors: Map<string, Tensor>;
}

/** A Hugging Face folder read into qkv's terms: the model kind, its config, and its state dict under qkv's names. */
export interface QkvLayout {
  /** 'gpt', 'gpt-classifier', 'bert' or 'bert-classifier'. */
  modelKind: string;
  /** The model's config in qkv's field names (defaults filled in from Hugging Face's). */
  model: Record<string, unknown>;
  /** The state dict under qkv's names; tied weights appear under each of their names. */
  state: Map<string, Tensor>;
  /** Tensors the file lacked that the model needs but never reads for its outputs, given a fresh value (BertForMaskedLM's pooler). */
  initialized: string[];
  /** Tensors of the file that this model has no place for and that are safe to drop (buffers, other heads). */
  ignored: string[];
}

/** Reads config fields, each error naming the file and field and what was expected. */
export class FieldReader {
  constructor(readonly config: HFConfig, readonly where: string) {}

  fail(field: string, expected: string): never {
    throw new FormatError(`${this.where}: ${field} is ${show(this.config[field])}, expected ${expected}`);
  }

  /** An integer ≥ min; `fallback` when the field is absent (undefined means required). */
  int(field: string, min: number, fallback?: number): number {
    const v = this.config[field];
    if (v === undefined && fallback !== undefined) return fallback;
    if (!Number.isSafeInteger(v) || (v as number) < min) this.fail(field, `an integer ≥ ${min}`);
    return v as number;
  }

  /** A finite number in [0, 1) (dropout) or (0, 1) (ε); `fallback` when absent. */
  rate(field: string, fallback: number, open = false): number {
    const v = this.config[field];
    if (v === undefined) return fallback;
    const ok = typeof v === 'number' && Number.isFinite(v) && v < 1 && (open ? v > 0 : v >= 0);
    if (!ok) this.fail(field, open ? 'a number in (0, 1)' : 'a number in [0, 1)');
    return v as number;
  }

  bool(field: string, fallback: boolean): boolean {
    const v = this.config[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(field, 'true or false');
    return v;
  }

  /** One of `allowed` (keys of the map), returning the mapped value. */
  oneOf<T>(field: string, allowed: Readonly<Record<string, T>>, fallback: string): T {
    const v = this.config[field] ?? fallback;
    if (typeof v !== 'string' || !Object.hasOwn(allowed, v)) this.fail(field, `one of ${Object.keys(allowed).map((k) => JSON.stringify(k)).join(', ')}`);
    return allowed[v as string];
  }

  /** Refuses a field whose value qkv cannot honour (a feature its model lacks). */
  require(field: string, want: unknown, why: string): void {
    const v = this.config[field];
    if (v !== undefined && v !== null && v !== want) this.fail(field, `${JSON.stringify(want)} (${why})`);
  }
}

/** The architecture named by config.json (`architectures[0]`), or `fallback` when absent; it must be one of `known`. */
export function readArchitecture(r: FieldReader, known: readonly string[], fallback: string): string {
  const a = r.config['architectures'];
  if (a === undefined || a === null) return fallback;
  if (!Array.isArray(a) || a.length !== 1 || typeof a[0] !== 'string') r.fail('architectures', `an array of one class name, one of ${known.join(', ')}`);
  const name = (a as string[])[0];
  if (!known.includes(name)) {
    throw new FormatError(`${r.where}: architectures names "${name}", which qkv cannot build, expected one of ${known.join(', ')}`);
  }
  return name;
}

/**
 * Label names in id order from `id2label` ({"0": "ham", "1": "spam"}), or LABEL_i for `num_labels`
 * when there is no id2label (Hugging Face's own default names).
 */
export function readLabels(r: FieldReader): string[] {
  const raw = r.config['id2label'];
  if (raw === undefined || raw === null) {
    const n = r.int('num_labels', 2, 2);
    // Capped before the names are made: a config must not make us build millions of strings.
    if (n > MAX_LABELS) r.fail('num_labels', `an integer from 2 to ${MAX_LABELS}`);
    return Array.from({ length: n }, (_, i) => `LABEL_${i}`);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) r.fail('id2label', 'an object of id → label name');
  const entries = Object.entries(raw as Record<string, unknown>);
  const labels: string[] = [];
  for (const [k, v] of entries) {
    const id = Number(k);
    if (!/^(0|[1-9][0-9]*)$/.test(k) || id >= entries.length) r.fail('id2label', `ids 0 to ${entries.length - 1} (got key ${JSON.stringify(k)})`);
    if (typeof v !== 'string' || v === '') r.fail('id2label', `label names as non-empty strings (id ${k} is ${show(v)})`);
    labels[id] = v as string;
  }
  if (labels.length < 2) r.fail('id2label', 'at least 2 labels');
  if (new Set(labels).size !== labels.length) r.fail('id2label', 'distinct label names');
  return labels;
}

/** id2label and label2id as Hugging Face writes them. */
export function labelFields(labels: readonly string[]): { id2label: Record<string, string>; label2id: Record<string, number> } {
  const id2label: Record<string, string> = {};
  const label2id: Record<string, number> = {};
  labels.forEach((l, i) => {
    Object.defineProperty(id2label, String(i), { value: l, enumerable: true, writable: true, configurable: true });
    Object.defineProperty(label2id, l, { value: i, enumerable: true, writable: true, configurable: true });
  });
  return { id2label, label2id };
}

/** Takes named tensors out of a file's map, checking each shape; errors name the tensor, its shape and the config fields behind it. */
export class TensorTaker {
  readonly taken = new Set<string>();

  constructor(readonly tensors: ReadonlyMap<string, Tensor>, readonly where: string, readonly architecture: string, readonly configWhere: string) {}

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** The tensor `name` (or the first of `aliases` present), of shape `dims` ([size, config field] each). */
  take(name: string, dims: readonly [number, string][], aliases: readonly string[] = []): Tensor {
    const found = [name, ...aliases].find((n) => this.tensors.has(n));
    const want = dims.map(([n]) => n);
    const fields = dims.map(([, f]) => f).join(', ');
    if (found === undefined) {
      throw new FormatError(`${this.where}: has no tensor "${name}", expected one of shape ${fmtShape(want)} (${fields} of ${this.configWhere}) for ${this.architecture}`);
    }
    const t = this.tensors.get(found)!;
    if (t.shape.length !== want.length || t.shape.some((n, i) => n !== want[i])) {
      throw new FormatError(`${this.where}: tensor "${found}" has shape ${fmtShape(t.shape)}, expected ${fmtShape(want)} (${fields} of ${this.configWhere}) for ${this.architecture}`);
    }
    if (t.dtype === 'int32') throw new FormatError(`${this.where}: tensor "${found}" holds integers, expected floating-point weights`);
    this.taken.add(found);
    return t;
  }

  /**
   * The names not taken: those matching `ignorable` are returned (safe to drop); any other is an
   * error naming it, since a weight qkv would silently drop means the folder is not what its
   * config says.
   */
  rest(ignorable: readonly RegExp[]): string[] {
    const ignored: string[] = [];
    const unknown: string[] = [];
    for (const n of this.tensors.keys()) {
      if (this.taken.has(n)) continue;
      (ignorable.some((re) => re.test(n)) ? ignored : unknown).push(n);
    }
    if (unknown.length > 0) {
      const list = unknown.slice(0, 5).map((n) => `"${n}"`).join(', ') + (unknown.length > 5 ? ` and ${unknown.length - 5} more` : '');
      throw new FormatError(`${this.where}: holds ${unknown.length} tensor${unknown.length === 1 ? '' : 's'} that ${this.architecture} has no place for (${list}), expected only its own weights`);
    }
    return ignored;
  }
}

/** A Conv1D weight [in, out] from a Linear weight [out, in], and back: the transpose, contiguous (for writing a file). */
export function transposed(t: Tensor): Tensor {
  return noGrad(() => t.transpose(0, 1).contiguous());
}

/**
 * The transpose as a view, no copy (for reading a file): loadStateDict's copy into the parameter reads it
 * through the strides, so each weight is moved once.
 */
export function transposedView(t: Tensor): Tensor {
  return noGrad(() => t.transpose(0, 1));
}

/** The shape dims for an error message: [size, field] pairs. */
export function dims(...d: [number, string][]): [number, string][] {
  return d;
}

function show(v: unknown): string {
  if (v === undefined) return 'missing';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return jsonPreview(v);
}
