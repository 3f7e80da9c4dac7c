// The kill test: `qkv train` killed (SIGKILL) and interrupted (SIGINT) at seeded random moments, then resumed; checks that no progress or best/ is lost.
//
// Run it whole:  nice -n 10 node --import tsx test/fuzz/kill.ts --kills 50 --sigints 10 [--seed 1] [--dir /tmp/k]
// test/fuzz/kill.test.ts runs a bounded slice of it in npm test.
//
// One run folder; each round starts `node bin/qkv.js train g2p --preset tiny` (with --resume once a
// checkpoint exists), then either SIGKILLs it at a random moment (4 in 5 within 2 s of its first
// training line, while it trains or saves; the others anywhere from the start, loading included)
// or, once it has printed a training line, sends SIGINT. After each round it checks:
//   - the resumed run starts from a step ≥ the newest step saved before it (last/ or best/);
//   - best/'s recorded validLoss never increases ('min' metric);
//   - every folder read (last/, best/, or the copy the fallback picks) is complete: its manifest
//     lists every file at its size, and the checkpoint loads (weights, tokenizers, state);
//   - after a SIGINT: exit code 130, last/ saved at the step the run reached, no stray copies left.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/core/rng.js';
import { isCompleteDir, staleCopies } from '../../src/node/atomic-write.js';
import { readCheckpointFiles } from '../../src/node/checkpoint.js';
import { readCheckpoint } from '../../src/train/checkpoint.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'qkv.js');

/** Options of {@link killTest}. */
export interface KillTestOptions {
  kills: number;
  sigints: number;
  seed?: number;
  /** The run folder (default: a fresh temporary one, removed after). */
  dir?: string;
  /** Longest SIGKILL delay after the start, in ms (default 7000: startup is 2–4 s on 2 cores). */
  maxDelayMs?: number;
  log?: (line: string) => void;
}

/** What the kill test counted; `failures` lists each broken guarantee (empty when all held). */
export interface KillTestReport {
  kills: number;
  /** SIGKILLs that landed after training had started (the others hit data loading). */
  killsWhileTraining: number;
  sigints: number;
  /** SIGINTs whose run exited 130 with last/ at the step it reached. */
  cleanSigints: number;
  resumes: number;
  /** Stray `.tmp-*`/`.old-*` copies seen after a kill: evidence of kills landing mid-save. */
  strayCopiesSeen: number;
  /** Times readCheckpointDir's fallback read a copy beside a missing folder (always a complete one). */
  fallbacksRead: number;
  foldersChecked: number;
  highestStep: number;
  bestValue: number | null;
  failures: string[];
}

interface Round { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; trained: boolean }

/** Starts one qkv train; `act` gets the child and a promise of its first training line. */
function round(args: string[], act: (child: ReturnType<typeof spawn>, trained: Promise<void>) => void): Promise<Round> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, QKV_THREADS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let trained = false;
    let onTrained: () => void = () => undefined;
    const trainedP = new Promise<void>((r) => (onTrained = r));
    child.stdout!.on('data', (d) => {
      stdout += d;
      if (!trained && /^step \d+/m.test(stdout)) {
        trained = true;
        onTrained();
      }
    });
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr, trained }));
    act(child, trainedP);
  });
}

/** A checkpoint folder's step and best, read as a resumed run reads it; null when there is none. Records failures. */
async function inspect(dir: string, report: KillTestReport, what: string): Promise<{ step: number; best: number | null } | null> {
  if (!existsSync(join(dir, 'config.json')) && !(await staleCopies(dir)).length) return null;
  let read;
  try {
    read = await readCheckpointFiles(dir);
  } catch (e) {
    if (/no such checkpoint folder/.test((e as Error).message)) return null; // only torn copies: nothing is read
    report.failures.push(`${what}: ${dir} could not be read: ${(e as Error).message}`);
    return null;
  }
  report.foldersChecked++;
  if (read.dir !== dir) report.fallbacksRead++;
  if (!(await isCompleteDir(read.dir))) report.failures.push(`${what}: ${read.dir} was read but is incomplete (manifest missing or a file of the wrong size)`);
  try {
    const ck = readCheckpoint(read.files, { source: read.dir });
    if (!ck.trainerState || !ck.tokenizer) report.failures.push(`${what}: ${read.dir} lacks its trainer state or tokenizer`);
    return { step: ck.trainerState?.step ?? -1, best: ck.trainerState?.best?.value ?? null };
  } catch (e) {
    report.failures.push(`${what}: ${read.dir} does not load: ${(e as Error).message}`);
    return null;
  }
}

/**
 * Runs the kill test and returns its counts. Rounds alternate so that the SIGINTs are spread
 * among the kills.
 *
 * @example
 * const r = await killTest({ kills: 50, sigints: 10, seed: 1 }); // r.failures: []
 */
export async function killTest(o: KillTestOptions): Promise<KillTestReport> {
  const rng = new Rng(o.seed ?? 1); // seeded, so a failing round can be replayed
  const rand = () => rng.uniform();
  const own = o.dir === undefined;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'qkv-kill-'));
  const log = o.log ?? (() => undefined);
  const report: KillTestReport = {
    kills: 0, killsWhileTraining: 0, sigints: 0, cleanSigints: 0, resumes: 0, strayCopiesSeen: 0, fallbacksRead: 0, foldersChecked: 0,
    highestStep: -1, bestValue: null, failures: [],
  };
  const total = o.kills + o.sigints;
  const sigintEvery = o.sigints ? Math.max(1, Math.floor(total / o.sigints)) : Infinity;
  try {
    for (let i = 0; i < total; i++) {
      const sigint = report.sigints < o.sigints && (i % sigintEvery === sigintEvery - 1 || total - i <= o.sigints - report.sigints);
      const resume = report.highestStep >= 0;
      const args = ['train', 'g2p', '--preset', 'tiny', '--out', dir, '--steps', '1000000', resume ? '--resume' : '--overwrite'];
      const delay = 500 + rand() * ((o.maxDelayMs ?? 7000) - 500);
      const extra = rand() * 1500;
      // Four kills in five land in training (after the first step line, within 2 s: ~10 saves), the rest anywhere from the start.
      const inTraining = rand() < 0.8;
      const r = await round(args, (child, trained) => {
        if (sigint) void trained.then(() => setTimeout(() => child.kill('SIGINT'), extra));
        else if (inTraining) void trained.then(() => setTimeout(() => child.kill('SIGKILL'), extra * (4 / 3)));
        else setTimeout(() => child.kill('SIGKILL'), delay);
      });
      const when = inTraining ? `${Math.round(extra * (4 / 3))} ms into training` : `${Math.round(delay)} ms after the start`;
      const tag = `round ${i + 1} (${sigint ? 'SIGINT' : `SIGKILL ${when}`}${resume ? ', resumed' : ''})`;
      if (resume) {
        const m = /resuming g2p \(preset tiny\) from \S+ at step (\d+)/.exec(r.stderr);
        if (m) {
          report.resumes++;
          if (Number(m[1]) < report.highestStep) report.failures.push(`${tag}: resumed at step ${m[1]}, but step ${report.highestStep} had been saved`);
        } else if (r.code !== null) {
          report.failures.push(`${tag}: exited ${r.code} without resuming: ${r.stderr.trim().split('\n').at(-1)}`);
        }
      }
      if (sigint) {
        report.sigints++;
        const m = /interrupted by SIGINT at step (\d+): saved \S+ at step (\d+)/.exec(r.stderr);
        const last = await inspect(join(dir, 'last'), report, tag);
        const stray = (await staleCopies(join(dir, 'last'))).length + (await staleCopies(join(dir, 'best'))).length;
        if (r.code !== 130 || !m) report.failures.push(`${tag}: expected exit 130 and the interrupted line, got ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').at(-1)}`);
        else if (!last || last.step !== Number(m[1])) report.failures.push(`${tag}: stopped at step ${m[1]} but last/ holds step ${last?.step}`);
        else if (stray) report.failures.push(`${tag}: ${stray} stray copies left after a clean save`);
        else report.cleanSigints++;
      } else {
        report.kills++;
        if (r.trained) report.killsWhileTraining++;
        report.strayCopiesSeen += (await staleCopies(join(dir, 'last'))).length + (await staleCopies(join(dir, 'best'))).length;
      }
      const last = await inspect(join(dir, 'last'), report, tag);
      const best = await inspect(join(dir, 'best'), report, tag);
      const newest = Math.max(last?.step ?? -1, best?.step ?? -1);
      if (newest < report.highestStep) report.failures.push(`${tag}: the newest checkpoint holds step ${newest}, but step ${report.highestStep} had been saved`);
      report.highestStep = Math.max(report.highestStep, newest);
      // best/'s recorded value: the value at the step best/ was saved (its own trainer state's best).
      if (best?.best != null) {
        if (report.bestValue !== null && best.best > report.bestValue) report.failures.push(`${tag}: best/ got worse: validLoss ${report.bestValue} → ${best.best}`);
        report.bestValue = report.bestValue === null ? best.best : Math.min(report.bestValue, best.best);
      }
      log(`${tag}: exit ${r.code ?? r.signal}, newest step ${report.highestStep}, best ${report.bestValue ?? '-'}, failures ${report.failures.length}`);
    }
  } finally {
    if (own) rmSync(dir, { recursive: true, force: true });
  }
  return report;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string, dflt: number): number => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const i = process.argv.indexOf('--dir');
  const t0 = Date.now();
  const report = await killTest({
    kills: arg('kills', 50), sigints: arg('sigints', 10), seed: arg('seed', 1), ...(i >= 0 ? { dir: process.argv[i + 1] } : {}),
    log: (l) => process.stderr.write(l + '\n'),
  });
  process.stdout.write(JSON.stringify({ ...report, seconds: Math.round((Date.now() - t0) / 1000) }, null, 2) + '\n');
  process.exitCode = report.failures.length ? 1 : 0;
}
