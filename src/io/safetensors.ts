// safetensors: parse and serialize the Hugging Face tensor file format, bytes in and bytes out.
//
// Layout: an 8-byte little-endian u64 N, N bytes of UTF-8 JSON
// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}`, then the data
// buffer, which the offsets index from its start. The reader is strict, as the reference Rust
// library is: the buffer must be covered exactly, without overlaps or holes, so a file cannot
// smuggle bytes (or a second format) past the header.

import type { Backend } from '../backend/backend.js';
import type { DType, TypedArray } from '../core/dtype.js';
import { ArgumentError, FormatError, fmtShape } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { jsonPreview } from '../core/preview.js';
import { Tensor, defaultBackend } from '../tensor/index.js';

/** What a safetensors file holds: named tensors and free-form string metadata. */
export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Options for {@link parseSafetensors}. */
export interface ParseSafetensorsOptions {
  /** Names the bytes in error messages (a file path, say). Default "safetensors". */
  source?: string;
  /** Backend the tensors are created on. Default: the default backend. */
  backend?: Backend;
  /**
   * Let F32, F64 and I32 tensors whose data sit aligned in `bytes` view those bytes instead of copying them
   * (default false). The tensors then share memory with `bytes`, and keep all of it alive while any of them
   * lives: for bytes the caller hands over, such as a file read only to be loaded into a model.
   */
  view?: boolean;
}

/** Headers past this are refused before anything is allocated (the Rust library allows 100 MB). */
const MAX_HEADER_BYTES = LIMITS.maxSafetensorsHeaderBytes;
/** More tensors than this are refused before any is read. */
const MAX_TENSORS = LIMITS.maxSafetensorsTensors;
const METADATA_KEY = '__metadata__';

/** Bytes per element of each on-disk dtype qkv reads, and the qkv dtype it becomes. */
const READ_DTYPES: Record<string, { size: number; dtype: DType }> = {
  F64: { size: 8, dtype: 'float64' },
  F32: { size: 4, dtype: 'float32' },
  F16: { size: 2, dtype: 'float32' },
  BF16: { size: 2, dtype: 'float32' },
  I64: { size: 8, dtype: 'int32' },
  I32: { size: 4, dtype: 'int32' },
  I16: { size: 2, dtype: 'int32' },
  U16: { size: 2, dtype: 'int32' },
  I8: { size: 1, dtype: 'int32' },
  U8: { size: 1, dtype: 'int32' },
  BOOL: { size: 1, dtype: 'int32' },
};

const WRITE_DTYPES: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32' };

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Reads a safetensors file from its bytes. F32/F64/I32 load as float32/float64/int32; F16 and
 * BF16 widen to float32; I64 narrows to int32 (a value that does not fit is an error); BOOL, U8,
 * I8, I16 and U16 widen to int32. Anything malformed throws a {@link FormatError} naming
 * `opts.source`, the tensor, and what was expected.
 *
 * @example
 * const bytes = serializeSafetensors({ w: tensor([[1, 2], [3, 4]]) }, { format: 'pt' });
 * const { tensors, metadata } = parseSafetensors(bytes, { source: 'model.safetensors' });
 * tensors.get('w')!.shape; // [2, 2]
 * metadata.format;         // 'pt'
 */
export function parseSafetensors(bytes: Uint8Array, opts: ParseSafetensorsOptions = {}): SafetensorsFile {
  const source = opts.source ?? 'safetensors';
  const fail: (msg: string) => never = (msg) => { throw new FormatError(`${source}: ${msg}`); };

  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, expected at least 8 (the header length)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const headerLen = hi * 2 ** 32 + lo; // may be inexact above 2^53, but then it is refused anyway
  if (hi !== 0 || lo > MAX_HEADER_BYTES) {
    fail(`header length ${hi === 0 ? lo : `~${headerLen.toExponential(3)}`} is absurdly large, expected at most ${MAX_HEADER_BYTES} bytes`);
  }
  if (8 + headerLen > bytes.length) {
    fail(`header length ${headerLen} runs past the end of the file (${bytes.length} bytes, so at most ${bytes.length - 8})`);
  }

  const header = parseHeaderJson(bytes.subarray(8, 8 + headerLen), fail);
  const metadata = readMetadata(header[METADATA_KEY], fail);
  const names = Object.keys(header);
  const count = names.length - (Object.hasOwn(header, METADATA_KEY) ? 1 : 0);
  if (count > MAX_TENSORS) fail(`header lists ${count} tensors, expected at most ${MAX_TENSORS} (the cap LIMITS.maxSafetensorsTensors)`);
  const entries: Entry[] = [];
  for (const name of names) {
    if (name !== METADATA_KEY) entries.push(readEntry(name, header[name], fail));
  }

  const dataStart = 8 + headerLen;
  checkCoverage(entries, bytes.length - dataStart, fail);

  const tensors = new Map<string, Tensor>();
  const backend = opts.backend ?? defaultBackend();
  for (const e of entries) {
    // decode's array is the file's bytes (a view) or a fresh copy: either way the storage itself, not copied again.
    const values = decode(e, view, dataStart, opts.view === true, fail);
    tensors.set(e.name, Tensor.fromStorage(backend.wrapArray(values), e.shape, backend));
  }
  return { tensors, metadata };
}

function parseHeaderJson(raw: Uint8Array, fail: (msg: string) => never): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw); // ignoreBOM keeps a BOM in the text, to be refused
  } catch {
    return fail('header is not valid UTF-8');
  }
  // As the reference library: nothing before the JSON (no BOM, no whitespace); only trailing spaces pad it.
  const first = text.codePointAt(0);
  if (first !== undefined && (first === 0xfeff || /\s/u.test(String.fromCodePoint(first)))) {
    const what = first === 0xfeff ? 'a byte order mark' : `${JSON.stringify(String.fromCodePoint(first))} (U+${first.toString(16).toUpperCase().padStart(4, '0')})`;
    return fail(`header starts with ${what}, expected a JSON object starting with "{"`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message}), expected a JSON object`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return fail(`header is ${describe(json)}, expected a JSON object`);
  }
  return json as Record<string, unknown>;
}

function readMetadata(raw: unknown, fail: (msg: string) => never): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    fail(`"${METADATA_KEY}" is ${describe(raw)}, expected an object of strings`);
  }
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v !== 'string') fail(`"${METADATA_KEY}" value "${k}" is ${describe(v)}, expected a string`);
    // defineProperty, so a key named "__proto__" stays an ordinary key.
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function readEntry(name: string, raw: unknown, fail: (msg: string) => never): Entry {
  const where = `tensor "${name}"`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(`${where} is ${describe(raw)}, expected an object with dtype, shape and data_offsets`);
  const r = raw as Record<string, unknown>;
  for (const key of ['dtype', 'shape', 'data_offsets']) {
    if (!(key in r)) fail(`${where} has no "${key}", expected dtype, shape and data_offsets`);
  }
  const { dtype, shape, data_offsets: offsets } = r;
  if (typeof dtype !== 'string') fail(`${where} dtype is ${describe(dtype)}, expected a string such as "F32"`);
  const dt = dtype as string;
  if (!Object.hasOwn(READ_DTYPES, dt)) fail(`${where} has unknown dtype "${dt}", expected one of ${Object.keys(READ_DTYPES).join(', ')}`);
  if (!Array.isArray(shape)) fail(`${where} shape is ${describe(shape)}, expected an array of sizes`);
  for (const d of shape as unknown[]) {
    if (!isNonNegInt(d)) fail(`${where} shape ${jsonPreview(shape)} has size ${jsonPreview(d)}, expected non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt)) {
    fail(`${where} data_offsets is ${jsonPreview(offsets)}, expected [begin, end] with non-negative integers`);
  }
  const [begin, end] = offsets as number[];
  if (begin > end) fail(`${where} data_offsets [${begin}, ${end}] has begin > end, expected begin <= end`);
  const dims = shape as number[];
  let numel = 1;
  for (const d of dims) numel *= d;
  const want = numel * READ_DTYPES[dt].size;
  if (!Number.isSafeInteger(want) || want !== end - begin) {
    fail(`${where} has ${end - begin} bytes, expected ${want} (shape ${fmtShape(dims)} × ${READ_DTYPES[dt].size} bytes of ${dt})`);
  }
  return { name, dtype: dt, shape: dims, begin, end };
}

/** The data buffer must be covered exactly once: no overlaps, no holes, nothing past its end. */
function checkCoverage(entries: Entry[], dataLen: number, fail: (msg: string) => never): void {
  for (const e of entries) {
    if (e.end > dataLen) fail(`tensor "${e.name}" data_offsets [${e.begin}, ${e.end}] run past the data buffer (${dataLen} bytes)`);
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: Entry | null = null;
  for (const e of sorted) {
    if (e.begin < pos) fail(`tensor "${e.name}" data_offsets [${e.begin}, ${e.end}] overlap tensor "${prev!.name}" [${prev!.begin}, ${prev!.end}], expected disjoint ranges`);
    if (e.begin > pos) fail(`data bytes [${pos}, ${e.begin}) belong to no tensor (hole before tensor "${e.name}"), expected the buffer to be fully covered`);
    pos = e.end;
    prev = e;
  }
  if (pos !== dataLen) fail(`data bytes [${pos}, ${dataLen}) belong to no tensor (trailing bytes), expected the buffer to end at ${pos}`);
}

/** Copies a tensor's bytes out into a typed array of its qkv dtype; offsets need not be aligned. */
function decode(e: Entry, view: DataView, dataStart: number, noCopy: boolean, fail: (msg: string) => never): TypedArray {
  const at = dataStart + e.begin;
  const byteLen = e.end - e.begin;
  const n = byteLen / READ_DTYPES[e.dtype].size;
  const abs = view.byteOffset + at;
  // No copy: a typed array over the file's own bytes, where they sit at a multiple of the element size.
  if (LITTLE_ENDIAN_HOST && noCopy && abs % READ_DTYPES[e.dtype].size === 0) {
    if (e.dtype === 'F32') return new Float32Array(view.buffer, abs, n);
    if (e.dtype === 'F64') return new Float64Array(view.buffer, abs, n);
    if (e.dtype === 'I32') return new Int32Array(view.buffer, abs, n);
  }
  // Fast path: slice() copies into a fresh, aligned buffer, which typed arrays can then view.
  if (LITTLE_ENDIAN_HOST) {
    if (e.dtype === 'F32') return new Float32Array(view.buffer.slice(abs, abs + byteLen));
    if (e.dtype === 'F64') return new Float64Array(view.buffer.slice(abs, abs + byteLen));
    if (e.dtype === 'I32') return new Int32Array(view.buffer.slice(abs, abs + byteLen));
  }
  switch (e.dtype) {
    case 'F32': { const o = new Float32Array(n); for (let i = 0; i < n; i++) o[i] = view.getFloat32(at + 4 * i, true); return o; }
    case 'F64': { const o = new Float64Array(n); for (let i = 0; i < n; i++) o[i] = view.getFloat64(at + 8 * i, true); return o; }
    case 'I32': { const o = new Int32Array(n); for (let i = 0; i < n; i++) o[i] = view.getInt32(at + 4 * i, true); return o; }
    case 'F16': { const o = new Float32Array(n); for (let i = 0; i < n; i++) o[i] = halfToFloat(view.getUint16(at + 2 * i, true)); return o; }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const o = new Float32Array(n);
      const bits = new Uint32Array(o.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(at + 2 * i, true) << 16;
      return o;
    }
    case 'I64': {
      const o = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const lo = view.getInt32(at + 8 * i, true);
        const hi = view.getInt32(at + 8 * i + 4, true);
        // Fits in int32 exactly when the high word is the sign extension of the low one.
        if (hi !== lo >> 31) {
          fail(`tensor "${e.name}" (I64) element ${i} is ${view.getBigInt64(at + 8 * i, true)}, expected a value in int32 range [-2147483648, 2147483647]`);
        }
        o[i] = lo;
      }
      return o;
    }
    case 'I16': { const o = new Int32Array(n); for (let i = 0; i < n; i++) o[i] = view.getInt16(at + 2 * i, true); return o; }
    case 'U16': { const o = new Int32Array(n); for (let i = 0; i < n; i++) o[i] = view.getUint16(at + 2 * i, true); return o; }
    case 'I8': { const o = new Int32Array(n); for (let i = 0; i < n; i++) o[i] = view.getInt8(at + i); return o; }
    case 'U8': { const o = new Int32Array(n); for (let i = 0; i < n; i++) o[i] = view.getUint8(at + i); return o; }
    case 'BOOL': {
      const o = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const b = view.getUint8(at + i);
        if (b > 1) fail(`tensor "${e.name}" (BOOL) element ${i} is byte ${b}, expected 0 or 1`);
        o[i] = b;
      }
      return o;
    }
  }
  return fail(`tensor "${e.name}" has dtype "${e.dtype}", which qkv cannot decode`);
}

/** IEEE 754 half precision bits to a number (exact: every half is a float32). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function isNonNegInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'object') return 'an object';
  if (typeof x === 'string') return `the string ${JSON.stringify(x.length > 40 ? x.slice(0, 40) + '…' : x)}`;
  return `${typeof x} ${String(x)}`;
}

/**
 * Writes tensors (float32 → F32, float64 → F64, int32 → I32) and string metadata as a
 * safetensors file. Tensors are laid out sorted by name, and the header is padded with spaces to
 * a multiple of 8 bytes, as the reference Rust library does, so the data starts 8-byte aligned.
 *
 * @example
 * const bytes = serializeSafetensors(
 *   new Map([['embed.weight', randn([10, 4], new Rng(0))]]),
 *   { format: 'pt' },
 * );
 */
export function serializeSafetensors(
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const items = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  items.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  // Built with defineProperty so names such as "__proto__" stay ordinary keys.
  const header: Record<string, unknown> = {};
  const put = (obj: Record<string, unknown>, k: string, v: unknown): void => {
    Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
  };
  if (metadata && Object.keys(metadata).length > 0) {
    const meta: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new ArgumentError(`serializeSafetensors: metadata "${k}" is ${describe(v)}, expected a string`);
      put(meta, k, v);
    }
    put(header, METADATA_KEY, meta);
  }

  // The header first, from shapes alone; then each tensor's bytes straight into the output (one tensor's copy alive at a time).
  const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };
  let offset = 0;
  for (const [name, t] of items) {
    if (name === METADATA_KEY) throw new ArgumentError(`serializeSafetensors: "${METADATA_KEY}" is reserved for metadata, expected another tensor name`);
    if (!(t instanceof Tensor)) throw new ArgumentError(`serializeSafetensors: "${name}" is ${describe(t)}, expected a Tensor`);
    const size = t.size * BYTES[t.dtype];
    put(header, name, { dtype: WRITE_DTYPES[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + size] });
    offset += size;
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, padded, true); // padded < 2^32: the header text is a JS string in memory
  view.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let pos = 8 + padded;
  for (const [, t] of items) {
    const chunk = toLittleEndianBytes(t.toArray());
    out.set(chunk, pos);
    pos += chunk.length;
  }
  return out;
}

function toLittleEndianBytes(data: TypedArray): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) view.setFloat32(4 * i, data[i], true);
    else if (data instanceof Float64Array) view.setFloat64(8 * i, data[i], true);
    else view.setInt32(4 * i, data[i], true);
  }
  return out;
}
