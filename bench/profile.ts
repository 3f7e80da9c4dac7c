// Where the time goes: V8's CPU profile of a benchmark worker's timed part (its --profile option, the
// same sampler as `node --cpu-prof`), summed by function and by kind of work (GEMM, element-wise,
// softmax/layer norm, other kernels, JS, GC).
//
// Not a test: `node --import tsx bench/profile.ts [--target=train|generate|forward1|forward32] [--model=gpt|s2s] [--steps=4]
// [--composed] [--top=25] [--seconds=1]` (forward1, forward32: the GPT's forward at B1 or B32 × T128, under noGrad),
// or `--file=x.cpuprofile` to summarise a profile taken before.
// Only the main thread is sampled. Every N-API function shares one C++ trampoline, so V8 names all
// addon frames after one of them (whichever it saw first, e.g. `adam`): a native frame is therefore
// charged to its caller, the src/backend/native.ts method (matmul, binary, ...) that called the addon.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_TSX, benchFile, flag, option, printTable, workerEnv } from './common.js';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

/** Kernel-calling methods of src/backend/native.ts, by kind. */
const KINDS: [RegExp, string][] = [
  [/^(matmul|linear|linearBackward)$/, 'GEMM (native matmul, linear with its bias/activation epilogue)'],
  [/^(decodeBlock|decodeStack|decodeStackRows)$/, 'cached decoding steps (one native call per block or stack)'],
  [/^(softmax|layerNorm|attention|attentionBackward)/, 'softmax / layer norm / attention (fused native kernels)'],
  [/^(gelu|geluBackward|crossEntropy|crossEntropyBackward|adamUpdate)$/, 'GELU, cross-entropy, Adam (fused native kernels)'],
  [/^(unary|binary|where)$/, 'element-wise (native unary, binary, where)'],
  [/^(copy|assign)$/, 'copies (native copy, assign: contiguous(), concat, in-place writes)'],
  [/^reduce$/, 'reductions (native sum, max, argmax)'],
  [/^(indexSelect|indexAdd)$/, 'embedding gather/scatter (native)'],
];

/** The kind of one profile frame. */
function kindOf(f: ProfileNode['callFrame']): string {
  if (f.functionName === '(garbage collector)') return 'GC';
  if (f.functionName === '(idle)' || f.functionName === '(program)') return 'idle / program';
  if (f.url.endsWith('src/backend/native.ts')) {
    for (const [re, k] of KINDS) if (re.test(f.functionName)) return k;
  }
  if (f.url === '' || f.url.startsWith('node:')) return 'node internals and other native';
  return 'JS (qkv: autograd, ops, modules, optimizer)';
}

function summarise(p: Profile, top: number, title: string): void {
  const byNode = new Map<number, ProfileNode>(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** The frame a sample is charged to: an addon frame (no url, not a V8 pseudo-frame) goes to its caller. */
  const chargedFrame = (id: number): ProfileNode['callFrame'] & { native: boolean } => {
    const f = byNode.get(id)!.callFrame;
    const up = parent.get(id);
    if (f.url === '' && !f.functionName.startsWith('(') && up !== undefined) return { ...byNode.get(up)!.callFrame, native: true };
    return { ...f, native: false };
  };
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map<string, number>();
  const byKind = new Map<string, number>();
  for (const [id, us] of self) {
    const f = chargedFrame(id);
    const file = f.url ? f.url.replace(/^.*\/(src|bench|node_modules)\//, '$1/') : '(native)';
    const key = `${f.functionName || '(anonymous)'} ${file}${f.native ? ' → addon' : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    byKind.set(kindOf(f), (byKind.get(kindOf(f)) ?? 0) + us);
  }
  // Kernel time (not GEMM) by the nearest caller that is a layer, an optimizer or a composed function,
  // split by forward/backward: which composed op to fuse next.
  const OWNER = /src\/(nn|optim|models)\/|src\/tensor\/ops\/(functional|fused)\.ts/;
  const byOwner = new Map<string, number>();
  for (const [id, us] of self) {
    const k = kindOf(chargedFrame(id));
    if (!/^(element-wise|reductions|copies|softmax|GELU)/.test(k)) continue;
    let owner = 'other';
    let backward = false;
    let below: ProfileNode['callFrame'] | null = null;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byNode.get(at)!.callFrame;
      if (owner === 'other' && OWNER.test(f.url)) owner = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/src\//, 'src/')}`;
      if (f.functionName === 'runBackward' && !backward) {
        backward = true;
        // In backward, the owner is the op's backward closure that runBackward called (named by its file).
        if (below) owner = `${below.functionName || '(closure)'} ${below.url.replace(/^.*\/src\//, 'src/')}`;
      }
      below = f;
    }
    const key = `${backward ? 'backward' : 'forward '} ${owner}`;
    byOwner.set(key, (byOwner.get(key) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1)}%`;
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  printTable(`${title}: self time by kind (${(total / 1e6).toFixed(1)} s sampled)`, ['kind', 'ms', 'share'],
    sorted(byKind).map(([k, us]) => [k, (us / 1000).toFixed(0), pct(us)]));
  printTable(`${title}: non-GEMM kernel time by the layer, optimizer or composed function that asked for it`, ['caller', 'ms', 'share'],
    sorted(byOwner).slice(0, top).map(([k, us]) => [k, (us / 1000).toFixed(0), pct(us)]));
  printTable(`${title}: top ${top} functions by self time`, ['function', 'ms', 'share'],
    sorted(byFn).slice(0, top).map(([k, us]) => [k, (us / 1000).toFixed(0), pct(us)]));
}

const existing = option('file', '');
if (existing) {
  summarise(JSON.parse(readFileSync(existing, 'utf8')) as Profile, Number(option('top', '25')), existing);
  process.exit(0);
}
const target = option('target', 'train');
const file = join(mkdtempSync(join(tmpdir(), 'qkv-prof-')), `${target}.cpuprofile`);
const extra = flag('composed') ? ['--composed'] : [];
const args = target === 'train'
  ? [benchFile('train-worker.ts'), `--model=${option('model', 'gpt')}`, `--steps=${option('steps', '4')}`, '--warmup=1', ...extra]
  : [benchFile('infer-worker.ts'), `--seconds=${option('seconds', '1')}`, `--profile-part=${target}`, ...extra];
const r = spawnSync(process.execPath, [...NODE_TSX, ...args, `--profile=${file}`], { env: workerEnv(2), encoding: 'utf8' });
if (r.status !== 0) { console.error(r.stderr); process.exit(1); }
console.log(`worker said: ${r.stdout.trim()}`);
summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(option('top', '25')), `${target} (${args.slice(1).join(' ')})`);
console.log(`\nprofile: ${file} (open in Chrome DevTools → Performance)`);
