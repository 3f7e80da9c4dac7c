// The native boundary (issue 14): calls that broke a kernel's preconditions crashed the process; each now throws
// a typed error naming the method and the operand, in ref and native alike. Crashing cases run in a child process,
// so the old code's segfault fails its test instead of killing the runner.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MAX_THREADS } from '../../src/backend/check.js';
import { refBackend } from '../../src/backend/ref.js';
import { ArgumentError, DTypeError, ShapeError } from '../../src/core/errors.js';
import { loadNativeBackend } from '../../src/node/backend-select.js';
import { CASES } from './boundary-cases.js';

const native = loadNativeBackend();
const casesFile = fileURLToPath(new URL('./boundary-cases.ts', import.meta.url));

/** Runs one case in a fresh node; returns what it printed, or how it died. */
function runCase(name: string, backend: 'native' | 'ref'): { status: number | null; signal: string | null; out: Record<string, unknown> | null } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', casesFile, name, backend], { encoding: 'utf8', timeout: 60_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let out: Record<string, unknown> | null = null;
  try { out = JSON.parse(line); } catch { /* a dead child prints nothing */ }
  return { status: r.status, signal: r.signal, out };
}

const EXPECTED: Record<string, { error: string; names: RegExp }> = {
  'binary add, a of 1e7 elements, b of 1': { error: 'ShapeError', names: /binary: b has shape \[1\], expected \[10000000\]/ },
  'matmul [1, 64, 1e6] by [1, 1, 64]': { error: 'ShapeError', names: /matmul: b has shape \[1, 1, 64\], expected \[1, 1000000, P\]/ },
  'layerNorm x [2, 1e6], weight and bias of 2': { error: 'ShapeError', names: /layerNorm: weight has shape \[2\], expected \[1000000\]/ },
  'crossEntropy logits [2, 4], targets [0, 1e9]': { error: 'ArgumentError', names: /crossEntropy: target 1000000000 at position 1 is outside \[0, 4\)/ },
  'where cond of 1, a and b of 1e6': { error: 'ShapeError', names: /where: cond has shape \[1\], expected \[1000000\]/ },
};

describe('the native boundary: the five calls that segfaulted', () => {
  for (const name of Object.keys(CASES)) {
    it(`${name}: the process survives and gets a typed error`, { skip: native ? false : 'native addon not built' }, () => {
      const r = runCase(name, 'native');
      assert.equal(r.signal, null, `the child died of ${r.signal}`);
      assert.equal(r.status, 0);
      assert.equal(r.out?.error, EXPECTED[name].error, JSON.stringify(r.out));
      assert.match(String(r.out?.message), EXPECTED[name].names);
    });
  }
  it('ref throws the same errors for the contract kernels it has', () => {
    for (const name of ['binary add, a of 1e7 elements, b of 1', 'matmul [1, 64, 1e6] by [1, 1, 64]', 'where cond of 1, a and b of 1e6']) {
      assert.throws(() => CASES[name](refBackend), (e: Error) => e.constructor.name === EXPECTED[name].error && EXPECTED[name].names.test(e.message), name);
    }
  });
});

describe('the native boundary: small mismatches that read past a buffer', () => {
  const backends = [refBackend, ...(native ? [native] : [])];
  const v = (b: typeof refBackend, data: Float32Array | Int32Array, shape: number[], strides: number[], offset = 0) =>
    ({ storage: b.fromArray(data), layout: { shape, strides, offset } });
  for (const b of backends) {
    it(`${b.name}: a view reaching past its storage, ids out of range and wrong dtypes throw typed errors`, () => {
      const x = v(b, new Float32Array(6), [2, 3], [3, 1], 1);
      assert.throws(() => b.unary('neg', x), (e: Error) => e instanceof ArgumentError && /unary: x of shape \[2, 3\].*reaches element 6, outside its storage of 6/.test(e.message));
      const y = v(b, new Float32Array(6), [2, 3], [3, 1]);
      const ids = v(b, new Int32Array([0, 2]), [2], [1]);
      assert.throws(() => b.indexSelect(y, ids), (e: Error) => e instanceof ArgumentError && /id 2 at position 1 is out of range \[0, 2\)/.test(e.message));
      assert.throws(() => b.indexAdd(y, v(b, new Int32Array([0, 0, 0]), [3], [1]), 2), (e: Error) => e instanceof ShapeError && /src has shape \[2, 3\], expected \[3, C\]/.test(e.message));
      assert.throws(() => b.indexSelect(y, v(b, new Float32Array([0, 1]), [2], [1])), (e: Error) => e instanceof DTypeError && /ids are float32, expected int32/.test(e.message));
      assert.throws(() => b.binary('add', y, v(b, new Int32Array(6), [2, 3], [3, 1])), DTypeError);
      assert.throws(() => b.reduce('sum', y, 2), (e: Error) => e instanceof ArgumentError && /reduce: axis/.test(e.message));
      assert.throws(() => b.binary('add', y, { storage: y.storage, layout: { shape: [2, 3], strides: [3, NaN], offset: 0 } }), ShapeError);
      assert.throws(() => b.assign(y, v(b, new Float32Array(3), [3], [1])), ShapeError);
    });
  }
  it('native: crossEntropy allows ignoreIndex among the targets', { skip: native ? false : 'native addon not built' }, () => {
    const logits = { storage: native!.fromArray(new Float32Array([0, 0, 0, 0])), layout: { shape: [2, 2], strides: [2, 1], offset: 0 } };
    const t = { storage: native!.fromArray(new Int32Array([-100, 1])), layout: { shape: [2], strides: [1], offset: 0 } };
    const r = native!.crossEntropy!(logits, t, -100, 0);
    assert.ok(r && Math.abs(r.sum - Math.LN2) < 1e-6); // one row of two equal logits: -log(1/2)
  });
});

describe('setThreads: a documented cap, not a silent clamp', () => {
  it(`native: 1e9, -1 and 1.5 throw an ArgumentError naming the value and [0, ${MAX_THREADS}]`, { skip: native ? false : 'native addon not built' }, () => {
    const before = native!.threads();
    for (const n of [1e9, MAX_THREADS + 1, -1, 1.5, NaN]) {
      assert.throws(() => native!.setThreads(n), (e: Error) => e instanceof ArgumentError && e.message.includes(String(n)) && e.message.includes(`[0, ${MAX_THREADS}]`), String(n));
    }
    assert.equal(native!.threads(), before, 'a refused call changes nothing');
    assert.equal(native!.setThreads(2), 2);
    native!.setThreads(before);
  });
  it('the addon itself refuses more than 256 threads (a RangeError, no threads started)', { skip: native ? false : 'native addon not built' }, () => {
    assert.throws(() => native!.addon.setThreads(1e9), (e: Error) => e instanceof RangeError && /\[0, 256\]/.test(e.message));
  });
  it('loadNativeBackend({ threads: 1e9 }) throws before touching the pool', () => {
    assert.throws(() => loadNativeBackend({ threads: 1e9 }), (e: Error) => e instanceof ArgumentError && /threads must be a whole number in \[0, 256\].*1000000000/.test(e.message));
  });
});
