// A/B of the GPT forward (benchmark GPT, T 128, under noGrad, native) between this tree and an older commit, in one
// process with alternating turns: each turn times a few forwards of A then of B (the order flips every turn), and the
// medians of the turns give the ratio. The two copies share the addon; each has its own backend object and pool.
//
// Not a test. Setup (the old tree as files, with this tree's node_modules, package.json and build/):
//   node --import tsx bench/forward-ab.ts --old=HEAD~1 [--turns=15] [--calls=5] [--batches=1,32]
// It extracts `git archive <old> src` into a temporary folder; the logits of A and B are checked equal first.

import { execSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, copyFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { median, option } from './common.js';
import { GPT_CONFIG } from './models.js';

type Lib = typeof import('../src/node/index.js');
const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const oldRef = option('old', 'HEAD~1');
const turns = Number(option('turns', '15'));
const calls = Number(option('calls', '5'));
const batches = option('batches', '1,32').split(',').map(Number);

const dir = mkdtempSync(join(tmpdir(), 'qkv-ab-'));
execSync(`git -C ${root} archive ${oldRef} src | tar -x -C ${dir}`);
copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
symlinkSync(join(root, 'build'), join(dir, 'build'));

const B_ = (await import('../src/node/index.js')) as Lib;
const A_ = (await import(pathToFileURL(join(dir, 'src/node/index.ts')).href)) as Lib;

/** A model and a timed forward per batch size on one copy of the library. */
function setup(lib: Lib) {
  const backend = lib.installDefaultBackend();
  const model = new lib.GPT({ ...GPT_CONFIG, backend });
  model.eval();
  const rng = new lib.Rng(99);
  const T = GPT_CONFIG.context;
  const ids = new Map(batches.map((B) => [B, lib.tensor(Int32Array.from({ length: B * T }, () => rng.int(GPT_CONFIG.vocab)), { dtype: 'int32', backend }).reshape([B, T])]));
  const forward = (B: number) => lib.withStorageScope(backend, () => lib.noGrad(() => model.forward(ids.get(B)!).logits.toArray()), () => []);
  return { forward };
}
const A = setup(A_);
const B = setup(B_);
for (const b of batches) {
  const [a, c] = [A.forward(b), B.forward(b)];
  if (a.length !== c.length || a.some((x, i) => x !== c[i])) throw new Error(`forward-ab: logits of ${oldRef} and this tree differ at B${b}`);
}

const time = (f: () => unknown) => { const t0 = performance.now(); for (let i = 0; i < calls; i++) f(); return (performance.now() - t0) / calls; };
console.log(`A = ${oldRef}, B = this tree; logits equal; load before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const b of batches) {
  for (let i = 0; i < 3; i++) { A.forward(b); B.forward(b); }
  const ta: number[] = [];
  const tb: number[] = [];
  for (let t = 0; t < turns; t++) {
    if (t % 2) { tb.push(time(() => B.forward(b))); ta.push(time(() => A.forward(b))); }
    else { ta.push(time(() => A.forward(b))); tb.push(time(() => B.forward(b))); }
  }
  const [ma, mb] = [median(ta), median(tb)];
  const tok = (ms: number) => ((b * GPT_CONFIG.context) / (ms / 1000) / 1000).toFixed(1);
  console.log(`forward B${b} T${GPT_CONFIG.context}: A ${ma.toFixed(3)} ms (${tok(ma)}k tok/s), B ${mb.toFixed(3)} ms (${tok(mb)}k tok/s), A/B time ${(ma / mb).toFixed(3)}x (${turns} turns of ${calls})`);
}
console.log(`load after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
