// 1,000 training steps of the benchmark GPT do not grow resident memory (STYLE.md habit 9), with the
// collector owning every buffer and with each step in a storage scope (the buffer pool) while batch
// shapes change; a deliberate leak (every loss tensor kept, with the graph it holds) is caught by the
// same check.
//
// The steps run in a child process started with --expose-gc: this file again, in child mode, which
// prints one JSON line of RSS samples taken after gc() (see `childMain`).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MiB = 1024 * 1024;
const STEPS = 1000;
/** The first sample. */
const SETTLED = 100;
/**
 * Where the clean runs' growth is measured from: RSS settles by step 100 in most runs, but a CI run
 * once climbed 137 → 155 MiB between steps 100 and 250 and stayed flat (±8 MiB) to step 1,000, with
 * ArrayBuffers flat at 9.4 MiB: the heap and malloc reaching their working size, not a leak.
 */
const CLEAN_FROM = 300;
/** Samples every EVERY steps from SETTLED on; growth compares the lowest of the first WINDOW samples with the lowest of the last WINDOW. */
const EVERY = 50;
const WINDOW = 2;
/**
 * Allowed RSS growth (after gc), steps 300-350 to 950-1,000. RSS after a full GC still moves by up to
 * ~13 MiB between samples here (malloc and V8 keep or return freed pages as they like; runs measured
 * 141-154 MiB), so the bound is above that noise: 16 MiB, about 10% of the process. A leak of
 * 20 KiB a step fails it; the deliberate leak below grows by ~3.5 MiB a step.
 */
const RSS_BOUND_MIB = 16;
/**
 * Allowed growth of memory in ArrayBuffers (what tensor storage lives in): it measured flat to 0.1 MiB
 * over 1,000 steps, so 1 MiB catches a leak of any tensor storage ≥ ~1.2 KiB a step.
 */
const BUFFER_BOUND_MIB = 1;

interface ChildReport { samples: { step: number; rssMiB: number; arrayBuffersMiB: number; heapMiB: number }[]; lastLoss: number }

/** Child mode: train, sampling memory after a full GC at `SETTLED` and every 100 steps after. */
async function childMain(mode: ChildMode, steps: number): Promise<void> {
  const { Adam, GPT, Rng, crossEntropy, installDefaultBackend, tensor, withStorageScope } = await import('../../src/node/index.js');
  const leak = mode === 'leak';
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('memory test child: run with --expose-gc');
  installDefaultBackend();
  // The benchmark GPT (bench/models.ts): 4 layers, d 128, 4 heads, d_ff 512, vocab 96; here B 2 × T 32.
  const [B, T, V] = [2, 32, 96];
  const model = new GPT({ vocab: V, dModel: 128, heads: 4, layers: 4, dFF: 512, context: 128, dropout: 0, seed: 0 });
  model.train();
  const opt = new Adam(model.parameters(), { lr: 3e-4 });
  const rng = new Rng(7);
  // Scoped mode cycles through batch shapes, as length-bucketed batches do: the pool must serve them all.
  const shapes = mode === 'scoped' ? [[B, T], [3, 24], [B, 16], [1, T], [3, 20]] : [[B, T]];
  const batches = Array.from({ length: 8 }, (_, i) => {
    const [b, t] = shapes[i % shapes.length];
    const ids = tensor(Int32Array.from({ length: b * (t + 1) }, () => rng.int(V)), { dtype: 'int32' }).reshape([b, t + 1]);
    return [ids.narrow(1, 0, t).contiguous(), ids.narrow(1, 1, t).contiguous().reshape([-1])];
  });
  const kept: unknown[] = [];
  const samples: ChildReport['samples'] = [];
  let lastLoss = NaN;
  for (let step = 1; step <= steps; step++) {
    const [x, y] = batches[step % batches.length];
    const run = () => {
      const loss = crossEntropy(model.forward(x).logits.reshape([-1, V]), y);
      loss.backward();
      opt.step();
      opt.zeroGrad();
      if (leak) kept.push(loss); // the deliberate leak: each step's loss, and the graph it holds, stays alive
      return loss.item();
    };
    lastLoss = mode === 'scoped' ? withStorageScope(opt.params[0].backend, run, () => opt.liveTensors()) : run();
    if (step >= SETTLED && step % EVERY === 0) {
      gc();
      gc();
      const m = process.memoryUsage();
      samples.push({ step, rssMiB: m.rss / MiB, arrayBuffersMiB: m.arrayBuffers / MiB, heapMiB: m.heapUsed / MiB });
    }
  }
  process.stdout.write(`${JSON.stringify({ samples, lastLoss, kept: kept.length })}\n`);
}

type ChildMode = 'clean' | 'scoped' | 'leak';

function runChild(mode: ChildMode, steps: number): ChildReport {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, QKV_MEMORY_CHILD: mode, QKV_MEMORY_STEPS: String(steps), QKV_THREADS: '2' },
    encoding: 'utf8',
    timeout: 600_000, // generous: the machine may be shared; a hang still ends
  });
  assert.equal(r.status, 0, `child failed (status ${r.status}, signal ${r.signal}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildReport;
}

/** Growth of one measure: the lowest of the last WINDOW samples minus the lowest of the first WINDOW from step `from`. */
function growth(report: ChildReport, key: 'rssMiB' | 'arrayBuffersMiB', from = SETTLED): number {
  const values = report.samples.filter((s) => s.step >= from).map((s) => s[key]);
  return Math.min(...values.slice(-WINDOW)) - Math.min(...values.slice(0, WINDOW));
}

function trace(report: ChildReport): string {
  return report.samples.map((s) => `${s.step}: ${s.rssMiB.toFixed(1)}/${s.arrayBuffersMiB.toFixed(1)}`).join(', ');
}

if (process.env.QKV_MEMORY_CHILD) {
  await childMain(process.env.QKV_MEMORY_CHILD as ChildMode, Number(process.env.QKV_MEMORY_STEPS));
} else {
  const noGrowth = (report: ChildReport) => {
    assert.ok(Number.isFinite(report.lastLoss), `training diverged: loss ${report.lastLoss}`);
    const rss = growth(report, 'rssMiB', CLEAN_FROM);
    const buffers = growth(report, 'arrayBuffersMiB', CLEAN_FROM);
    const where = `(RSS/ArrayBuffers MiB by step: ${trace(report)})`;
    assert.ok(rss < RSS_BOUND_MIB, `RSS grew by ${rss.toFixed(1)} MiB from step ${CLEAN_FROM} to ${STEPS}, expected < ${RSS_BOUND_MIB} MiB ${where}`);
    assert.ok(buffers < BUFFER_BOUND_MIB, `ArrayBuffers grew by ${buffers.toFixed(2)} MiB from step ${CLEAN_FROM} to ${STEPS}, expected < ${BUFFER_BOUND_MIB} MiB ${where}`);
  };

  test(`${STEPS} GPT training steps (B2 T32, Adam) do not grow RSS from step ${CLEAN_FROM} (< ${RSS_BOUND_MIB} MiB) or tensor storage (< ${BUFFER_BOUND_MIB} MiB)`, () => {
    noGrowth(runChild('clean', STEPS));
  });

  test(`${STEPS} steps in storage scopes, batch shapes changing every step, do not grow RSS or the buffer pool`, () => {
    noGrowth(runChild('scoped', STEPS));
  });

  test('the check catches a leak: keeping every loss tensor grows RSS past the bound within 200 steps', () => {
    const report = runChild('leak', 200);
    const rss = growth(report, 'rssMiB');
    assert.ok(rss >= RSS_BOUND_MIB, `a leaking run grew RSS by only ${rss.toFixed(1)} MiB; the bound ${RSS_BOUND_MIB} MiB would not catch it (${trace(report)})`);
  });
}
