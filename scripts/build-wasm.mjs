// `npm run build:wasm`: compiles native/'s portable kernels and native/wasm/ for wasm32 with SIMD128 into
// wasm/qkv.wasm (git-ignored, shipped by `npm pack`), with clang, wasm-ld and wasi-libc (Debian: clang lld
// wasi-libc libclang-rt-dev-wasm32).
//
// Objects are kept in wasm/obj/ and recompiled only when their source or a header is newer. Without clang's
// wasm32 target the build is skipped with one line saying what to install, unless --strict is given or CI is
// set (prepack and .ci/run): then it fails, so a package or a CI run never lacks the module.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const truthy = (v) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
const strict = process.argv.includes('--strict') || truthy(process.env.CI);
const cc = process.env.QKV_WASM_CC || 'clang';
const outDir = join(root, 'wasm');
const objDir = join(outDir, 'obj');
const out = join(outDir, 'qkv.wasm');

// The portable kernels (no x86 SIMD files, no pthread pool, no Node-API glue) and the wasm-only files.
const SOURCES = [
  'strided', 'elementwise', 'reduce', 'index', 'matmul', 'gemm', 'gemm-select', 'gemm-small', 'gemm-naive', 'gemm-portable',
  'gemm-linear', 'fused', 'fused-ops', 'fused-portable', 'decode',
].map((f) => `native/${f}.c`).concat(['pool-single', 'gemm-wasm', 'exports', 'exports-fused'].map((f) => `native/wasm/${f}.c`));

const CFLAGS = ['--target=wasm32-wasi', '-O3', '-msimd128', '-std=gnu11', '-fno-trapping-math', '-Wall', '-Wextra', '-Wno-unused-parameter',
  '-Wno-missing-field-initializers'];
// A reactor (no main; _initialize sets libc up), 1 MiB of stack (the kernels keep tiles there), and the memory imported
// (src/backend/wasm-module.ts makes it, 16 MiB growing up to wasm32's 4 GiB, and shares it with the FMA tile module).
const LDFLAGS = ['--target=wasm32-wasi', '-mexec-model=reactor', '-Wl,-z,stack-size=1048576', '-Wl,--import-memory',
  '-Wl,--initial-memory=16777216', '-Wl,--max-memory=4294967296', '-Wl,--strip-all', '-lm'];

function fail(msg) {
  if (strict) {
    process.stderr.write(`qkv: build:wasm failed: ${msg}\n`);
    process.exit(1);
  }
  process.stderr.write(`qkv: skipped build:wasm (${msg}); the wasm backend is unavailable until you install clang, lld and wasi-libc ` +
    '(Debian: apt-get install clang lld wasi-libc libclang-rt-dev-wasm32) and run `npm run build:wasm`\n');
  process.exit(0);
}

function run(args) {
  const r = spawnSync(cc, args, { cwd: root, encoding: 'utf8' });
  if (r.error) fail(`${cc} could not start: ${r.error.message}`);
  if (r.status !== 0) {
    process.stderr.write(r.stdout + r.stderr);
    const first = (r.stderr.split('\n').find((l) => /error/.test(l)) ?? `${cc} exited with code ${r.status}`).trim();
    fail(first.length > 240 ? `${first.slice(0, 237)}...` : first);
  }
  if (r.stderr.trim()) process.stderr.write(r.stderr);
}

const mtime = (p) => statSync(join(root, p)).mtimeMs;
const headers = ['native', 'native/wasm'].flatMap((d) => readdirSync(join(root, d)).filter((f) => f.endsWith('.h')).map((f) => `${d}/${f}`));
const newestHeader = Math.max(...headers.map(mtime), statSync(fileURLToPath(import.meta.url)).mtimeMs);

mkdirSync(objDir, { recursive: true });
const objects = [];
for (const src of SOURCES) {
  const obj = join(objDir, src.replace(/^native\//, '').replace(/\//g, '-').replace(/\.c$/, '.o'));
  objects.push(obj);
  if (existsSync(obj) && statSync(obj).mtimeMs > Math.max(mtime(src), newestHeader)) continue;
  process.stdout.write(`  cc ${src}\n`);
  run([...CFLAGS, '-c', src, '-o', `${obj}.tmp`]);
  renameSync(`${obj}.tmp`, obj);
}
run([...objects, ...LDFLAGS, '-o', `${out}.tmp`]);
renameSync(`${out}.tmp`, out);
process.stdout.write(`qkv: built ${out} (${(statSync(out).size / 1024).toFixed(0)} KiB)\n`);
