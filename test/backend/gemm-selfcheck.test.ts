// The sgemm kernel's self-check (native/gemm.c qkv_sgemm_kernel_works): every kernel this CPU runs passes it,
// and a kernel that fails it (QKV_SGEMM_BREAK names one, as a miscompiled or untested kernel would) is passed
// over with one line on stderr, while products stay right on the next kernel. Each case is a fresh process,
// since the kernel is chosen once per process.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const addon = join(process.cwd(), 'build', 'Release', 'qkv_native.node');

/** Runs a script with the addon as `a` in a fresh node; returns its JSON output and stderr. */
function child(script: string, env: Record<string, string> = {}): { out: Record<string, unknown>; stderr: string } {
  const r = spawnSync(process.execPath, ['-e', `const a = require(${JSON.stringify(addon)}); ${script}`], {
    encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return { out: JSON.parse(r.stdout), stderr: r.stderr };
}

// A 37×29 · 29×41 product with the kernel in use against the naive triple loop (exact test values).
const PRODUCT = `
  const [M, K, N] = [37, 29, 41];
  const x = Float32Array.from({ length: M * K }, (_, i) => ((i * 7) % 9 - 4) / 4);
  const y = Float32Array.from({ length: K * N }, (_, i) => ((i * 5) % 7 - 3) / 2);
  const meta = new Float64Array([1, M, K, N, 0, 0, K, 1, 0, 0, N, 1]);
  const got = new Float32Array(M * N), want = new Float32Array(M * N);
  a.matmul(got, x, y, meta);
  a.sgemmNaive(want, x, y, meta);
  const same = got.every((v, i) => v === want[i]);`;

if (!existsSync(addon)) {
  describe('sgemm self-check', () => {
    it('the addon is not built (run `npm run build:native`); skipped', { skip: 'qkv_native.node is not built' }, () => {});
  });
} else {
  describe('sgemm self-check', () => {
    const normal = child(`${PRODUCT} console.log(JSON.stringify({ kernel: a.gemmKernel(), kernels: a.gemmKernels(), same }));`).out;
    const first = normal.kernel as string;

    it('the kernel chosen passes its check, and products on it are right', () => {
      assert.ok((normal.kernels as string[]).includes(first));
      assert.equal(normal.same, true);
    });

    it('a kernel failing its check is passed over with one line on stderr; the next one computes the same product', (t) => {
      if (first === 'portable') return t.skip('this CPU runs only the portable kernel: there is nothing to fall back to');
      const broken = child(`${PRODUCT} console.log(JSON.stringify({ kernel: a.gemmKernel(), chosen: a.gemmKernel(${JSON.stringify(first)}), same }));`,
        { QKV_SGEMM_BREAK: first });
      assert.notEqual(broken.out.kernel, first);
      assert.equal(broken.out.chosen, null, 'asking for the failed kernel by name gives null');
      assert.equal(broken.out.same, true);
      const lines = broken.stderr.split('\n').filter((l) => l.includes('self-check'));
      assert.equal(lines.length, 1, broken.stderr);
      assert.match(lines[0], new RegExp(`the ${first} sgemm kernel gave wrong results in its self-check`));
    });
  });
}
