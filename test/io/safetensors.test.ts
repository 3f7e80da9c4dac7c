// safetensors: PyTorch-written fixtures, a byte-exact serializer check, round trips, and one test per malformed case.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ArgumentError, FormatError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { randn, tensor, Tensor } from '../../src/tensor/index.js';

const FIXTURES = new URL('../fixtures/safetensors/', import.meta.url);

interface Expected {
  metadata: Record<string, string>;
  tensors: Record<string, { dtype: string; file_dtype: string; shape: number[]; values: (number | string)[] }>;
}

function load(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, FIXTURES)));
}

function loadJson(name: string): Expected {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Expected;
}

function num(v: number | string): number {
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  return v as number;
}

/** A file from a header (object or raw text) and data bytes; headerLen overrides the length field. */
function build(header: unknown, data: Uint8Array | number[] = [], headerLen?: bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const h = new TextEncoder().encode(text);
  return concatBytes(h, Uint8Array.from(data), headerLen ?? BigInt(h.length));
}

function concatBytes(h: Uint8Array, data: Uint8Array, headerLen: bigint): Uint8Array {
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLen, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function f32Bytes(values: number[]): number[] {
  return [...new Uint8Array(new Float32Array(values).buffer)];
}

function expectFormatError(bytes: Uint8Array, ...parts: (string | RegExp)[]): void {
  assert.throws(() => parseSafetensors(bytes, { source: 'bad.safetensors' }), (e: unknown) => {
    assert.ok(e instanceof FormatError, `expected FormatError, got ${String(e)}`);
    assert.match(e.message, /^bad\.safetensors: /);
    for (const p of parts) {
      if (typeof p === 'string') assert.ok(e.message.includes(p), `message "${e.message}" lacks "${p}"`);
      else assert.match(e.message, p);
    }
    return true;
  });
}

test('reads a PyTorch-written file of many dtypes at unaligned offsets', () => {
  const exp = loadJson('mixed.json');
  const { tensors, metadata } = parseSafetensors(load('mixed.safetensors'));
  assert.deepEqual(metadata, exp.metadata);
  assert.deepEqual([...tensors.keys()].sort(), Object.keys(exp.tensors).sort());
  for (const [name, e] of Object.entries(exp.tensors)) {
    const t = tensors.get(name)!;
    assert.equal(t.dtype, e.dtype, `${name} dtype`);
    assert.deepEqual([...t.shape], e.shape, `${name} shape`);
    const got = Array.from(t.toArray());
    assert.equal(got.length, e.values.length, `${name} length`);
    // Exact: every value PyTorch reports is representable in the target dtype.
    for (let i = 0; i < got.length; i++) assert.ok(Object.is(got[i], num(e.values[i])), `${name}[${i}]: got ${got[i]}, expected ${e.values[i]}`);
  }
});

test('serializes byte for byte as the reference writer lays the file out', () => {
  const exp = loadJson('padded.json');
  const tensors = new Map<string, Tensor>();
  // Inserted out of order: the writer sorts by name.
  for (const name of Object.keys(exp.tensors).reverse()) {
    const e = exp.tensors[name];
    tensors.set(name, tensor(e.values.map(num), { shape: e.shape, dtype: e.dtype as 'float32' | 'float64' | 'int32' }));
  }
  const bytes = serializeSafetensors(tensors, exp.metadata);
  assert.deepEqual(Buffer.from(bytes), Buffer.from(load('padded.safetensors')));
});

test('round trip keeps names, dtypes, shapes, values and metadata; header is padded to 8 bytes', () => {
  const rng = new Rng(7);
  const src: Record<string, Tensor> = {
    'z.weight': randn([4, 3], rng),
    'a.bias': randn([5], rng, { dtype: 'float64' }),
    ids: tensor([[-2147483648, 2147483647], [0, -1]], { dtype: 'int32' }),
    scalar: tensor(2.5),
    empty: tensor(new Float32Array(0), { shape: [2, 0, 3] }),
    'odd "name" ✓': tensor([1, 2, 3]),
    __proto__x: tensor([1]),
  };
  const meta: Record<string, string> = { format: 'pt', 'ünïcode': 'ok ✓' };
  Object.defineProperty(meta, '__proto__', { value: 'plain key', enumerable: true });
  const bytes = serializeSafetensors(src, meta);
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const { tensors, metadata } = parseSafetensors(bytes);
  assert.deepEqual(Object.keys(metadata).sort(), Object.keys(meta).sort());
  for (const k of Object.keys(meta)) assert.equal(metadata[k], meta[k]);
  assert.equal(Object.getPrototypeOf(metadata), Object.prototype);
  assert.deepEqual([...tensors.keys()], Object.keys(src).sort());
  for (const [name, t] of Object.entries(src)) {
    const got = tensors.get(name)!;
    assert.equal(got.dtype, t.dtype, name);
    assert.deepEqual(got.shape, t.shape, name);
    assert.deepEqual(got.toArray(), t.toArray(), name);
  }
});

test('round trip of a non-contiguous view writes its values in row-major order', () => {
  const t = tensor([[1, 2, 3], [4, 5, 6]]).transpose(0, 1); // [3, 2]
  const got = parseSafetensors(serializeSafetensors({ t })).tensors.get('t')!;
  assert.deepEqual(got.shape, [3, 2]);
  assert.deepEqual(Array.from(got.toArray()), [1, 4, 2, 5, 3, 6]);
});

test('empty file set and no metadata', () => {
  const bytes = serializeSafetensors(new Map());
  const { tensors, metadata } = parseSafetensors(bytes);
  assert.equal(tensors.size, 0);
  assert.deepEqual(metadata, {});
});

test('reads from a Uint8Array that is a view at an odd offset into a larger buffer', () => {
  const inner = serializeSafetensors({ w: tensor([1.5, -2, 3]) });
  const big = new Uint8Array(inner.length + 3);
  big.set(inner, 1);
  const t = parseSafetensors(big.subarray(1, 1 + inner.length)).tensors.get('w')!;
  assert.deepEqual(Array.from(t.toArray()), [1.5, -2, 3]);
});

test('U16 widens to int32; I64 out of int32 range names the tensor and value', () => {
  const u16 = build({ u: { dtype: 'U16', shape: [2], data_offsets: [0, 4] } }, [0xff, 0xff, 0x01, 0x00]);
  assert.deepEqual(Array.from(parseSafetensors(u16).tensors.get('u')!.toArray()), [65535, 1]);
  const data = new Uint8Array(16);
  const dv = new DataView(data.buffer);
  dv.setBigInt64(0, -5n, true);
  dv.setBigInt64(8, 2147483648n, true);
  expectFormatError(build({ big: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data), 'tensor "big"', 'element 1 is 2147483648', 'int32 range');
  dv.setBigInt64(8, -2147483649n, true);
  expectFormatError(build({ big: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data), 'element 1 is -2147483649');
});

test('BOOL bytes other than 0 and 1 are refused', () => {
  expectFormatError(build({ m: { dtype: 'BOOL', shape: [2], data_offsets: [0, 2] } }, [1, 2]), 'tensor "m"', 'byte 2, expected 0 or 1');
});

test('the default source name is "safetensors"', () => {
  assert.throws(() => parseSafetensors(new Uint8Array(3)), /^FormatError: safetensors: file is 3 bytes/);
});

test('serialize refuses the reserved name, non-tensors and non-string metadata', () => {
  assert.throws(() => serializeSafetensors({ __metadata__: tensor([1]) }), ArgumentError);
  assert.throws(() => serializeSafetensors({ a: [1, 2] as unknown as Tensor }), /"a" is an array, expected a Tensor/);
  assert.throws(() => serializeSafetensors({ a: tensor([1]) }, { n: 3 as unknown as string }), /metadata "n" is number 3, expected a string/);
});

// ---- malformed files: one test each ----

const ok = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
const okData = f32Bytes([1, 2]);

test('malformed: sanity check that the base case parses', () => {
  assert.deepEqual(Array.from(parseSafetensors(build(ok, okData)).tensors.get('w')!.toArray()), [1, 2]);
});

test('malformed: file shorter than 8 bytes', () => {
  expectFormatError(new Uint8Array(5), 'file is 5 bytes, expected at least 8');
});

test('malformed: header length past the end of the file', () => {
  expectFormatError(build(ok, okData, 1000n), 'header length 1000 runs past the end');
});

test('malformed: header length absurdly large (not allocated)', () => {
  expectFormatError(build(ok, okData, 0xffffffffffffffffn), 'absurdly large');
  expectFormatError(build(ok, okData, 200_000_000n), 'header length 200000000 is absurdly large');
});

test('malformed: header not valid UTF-8', () => {
  const h = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
  expectFormatError(concatBytes(h, new Uint8Array(), 4n), 'not valid UTF-8');
});

test('malformed: header not JSON', () => {
  expectFormatError(build('{"w": {"dtype": "F32",', okData), 'not valid JSON');
  expectFormatError(build('', []), 'not valid JSON');
});

test('malformed: header not an object', () => {
  expectFormatError(build([1, 2]), 'header is an array, expected a JSON object');
  expectFormatError(build('null'), 'header is null, expected a JSON object');
  expectFormatError(build('"hi"'), 'header is the string "hi", expected a JSON object');
});

test('malformed: entry not an object', () => {
  expectFormatError(build({ w: [1, 2] }), 'tensor "w" is an array, expected an object');
});

test('malformed: entry missing dtype, shape or data_offsets', () => {
  expectFormatError(build({ w: { shape: [2], data_offsets: [0, 8] } }, okData), 'tensor "w" has no "dtype"');
  expectFormatError(build({ w: { dtype: 'F32', data_offsets: [0, 8] } }, okData), 'tensor "w" has no "shape"');
  expectFormatError(build({ w: { dtype: 'F32', shape: [2] } }, okData), 'tensor "w" has no "data_offsets"');
});

test('malformed: fields of the wrong type', () => {
  expectFormatError(build({ w: { dtype: 5, shape: [2], data_offsets: [0, 8] } }, okData), 'tensor "w" dtype is number 5, expected a string');
  expectFormatError(build({ w: { dtype: 'F32', shape: '2', data_offsets: [0, 8] } }, okData), 'tensor "w" shape is the string "2", expected an array');
  expectFormatError(build({ w: { dtype: 'F32', shape: [2], data_offsets: [0] } }, okData), 'tensor "w" data_offsets is [0], expected [begin, end]');
  expectFormatError(build({ w: { dtype: 'F32', shape: [2], data_offsets: ['0', 8] } }, okData), 'data_offsets is ["0",8]');
  expectFormatError(build({ w: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }, okData), 'data_offsets is [-8,0]');
});

test('malformed: unknown dtype', () => {
  expectFormatError(build({ w: { dtype: 'F33', shape: [2], data_offsets: [0, 8] } }, okData), 'tensor "w" has unknown dtype "F33", expected one of');
  expectFormatError(build({ w: { dtype: 'toString', shape: [2], data_offsets: [0, 8] } }, okData), 'unknown dtype "toString"');
});

test('malformed: shape with negative or non-integer sizes', () => {
  expectFormatError(build({ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, okData), 'tensor "w" shape [-2] has size -2, expected non-negative integers');
  expectFormatError(build({ w: { dtype: 'F32', shape: [1.5, 2], data_offsets: [0, 8] } }, okData), 'has size 1.5');
  expectFormatError(build({ w: { dtype: 'F32', shape: [null], data_offsets: [0, 8] } }, okData), 'has size null');
});

test('malformed: data_offsets past the end of the data buffer', () => {
  expectFormatError(build({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, okData), 'tensor "w" data_offsets [0, 16] run past the data buffer (8 bytes)');
});

test('malformed: data_offsets with begin > end', () => {
  expectFormatError(build({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, okData), 'tensor "w" data_offsets [8, 0] has begin > end');
});

test('malformed: data_offsets overlapping another tensor', () => {
  const h = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } };
  expectFormatError(build(h, f32Bytes([1, 2, 3])), 'tensor "b" data_offsets [4, 12] overlap tensor "a" [0, 8]');
  // Two names on the same bytes are an overlap too.
  const same = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  expectFormatError(build(same, okData), /overlap tensor "[ab]"/);
});

test('malformed: data_offsets leaving a hole, or bytes after the last tensor', () => {
  const h = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } };
  expectFormatError(build(h, f32Bytes([1, 2, 3])), 'data bytes [4, 8) belong to no tensor (hole before tensor "b")');
  expectFormatError(build({ b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, okData), 'data bytes [0, 4) belong to no tensor');
  expectFormatError(build(ok, f32Bytes([1, 2, 3])), 'data bytes [8, 12) belong to no tensor (trailing bytes)');
});

test('malformed: byte length differs from numel × dtype size', () => {
  expectFormatError(build({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, okData), 'tensor "w" has 8 bytes, expected 12 (shape [3] × 4 bytes of F32)');
  expectFormatError(build({ w: { dtype: 'F64', shape: [2], data_offsets: [0, 8] } }, okData), 'expected 16');
  // A shape whose element count overflows exact integers is refused, not wrapped.
  expectFormatError(build({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, okData), 'tensor "w" has 8 bytes, expected');
});

test('malformed: metadata values not strings, or metadata not an object', () => {
  expectFormatError(build({ __metadata__: { epoch: 3 }, ...ok }, okData), '"__metadata__" value "epoch" is number 3, expected a string');
  expectFormatError(build({ __metadata__: ['x'], ...ok }, okData), '"__metadata__" is an array, expected an object of strings');
});

test('malformed: a header with a BOM or leading whitespace is refused, as the reference library does', () => {
  const ok = { w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } };
  const okData = f32Bytes([1]);
  const json = JSON.stringify(ok);
  expectFormatError(build('\uFEFF' + json, okData), 'byte order mark', 'expected a JSON object starting with "{"');
  expectFormatError(build(' ' + json, okData), 'starts with " " (U+0020)');
  expectFormatError(build('\n' + json, okData), 'U+000A');
  // Trailing spaces are the reference's padding and stay fine.
  assert.deepEqual([...parseSafetensors(build(json + '   ', okData)).tensors.get('w')!.toArray()], [1]);
});

test('malformed: more tensors than LIMITS.maxSafetensorsTensors are refused before any is read', () => {
  const header: Record<string, unknown> = {};
  for (let i = 0; i <= 100_000; i++) header[`t${i}`] = { dtype: 'F32', shape: [0], data_offsets: [0, 0] };
  expectFormatError(build(header), 'header lists 100001 tensors, expected at most 100000');
});

test('malformed: a header over 16 MiB is refused before it is decoded', () => {
  expectFormatError(build('{}', [], BigInt(16 * 1024 * 1024 + 1)), 'absurdly large', 'at most 16777216');
});

test('malformed: a shape nested 100,000 levels deep is a FormatError (its message once overflowed the stack)', () => {
  const deep = '['.repeat(100_000) + '1' + ']'.repeat(100_000);
  expectFormatError(build(`{"w":{"dtype":"F32","shape":${deep},"data_offsets":[0,4]}}`, f32Bytes([1])), 'tensor "w" shape [', 'expected non-negative integers');
  expectFormatError(build(`{"w":{"dtype":"F32","shape":[1],"data_offsets":${deep}}}`, f32Bytes([1])), 'tensor "w" data_offsets is [[[[');
});

test('view: true lets aligned F32/F64/I32 tensors share the bytes; unaligned ones, and the default, copy', () => {
  const bytes = serializeSafetensors({ a: tensor([[1, 2], [3, 4]]), b: tensor([1.5, -2], { dtype: 'float64' }), i: tensor([7, -8, 9], { dtype: 'int32' }) });
  const viewed = parseSafetensors(bytes, { view: true }).tensors;
  const copied = parseSafetensors(bytes).tensors;
  assert.deepEqual(viewed.get('a')!.toList(), [[1, 2], [3, 4]]);
  assert.deepEqual(viewed.get('b')!.toList(), [1.5, -2]);
  assert.deepEqual(viewed.get('i')!.toList(), [7, -8, 9]);
  // Overwrite every data byte (the header keeps its length): the views see it, the copies do not.
  const headerEnd = 8 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  bytes.fill(0, headerEnd);
  assert.deepEqual(viewed.get('a')!.toList(), [[0, 0], [0, 0]]);
  assert.deepEqual(viewed.get('i')!.toList(), [0, 0, 0]);
  assert.deepEqual(copied.get('a')!.toList(), [[1, 2], [3, 4]]);
  // The same file one byte off alignment: view: true falls back to copying, values intact.
  const good = serializeSafetensors({ a: tensor([[1, 2], [3, 4]]) });
  const shifted = new Uint8Array(good.length + 1).subarray(1);
  shifted.set(good);
  const t = parseSafetensors(shifted, { view: true }).tensors.get('a')!;
  shifted.fill(0, 16);
  assert.deepEqual(t.toList(), [[1, 2], [3, 4]]);
});
