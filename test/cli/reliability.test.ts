// qkv train's guarantees, run as a user runs it: a diverging run stops naming the step (exit 1) with a
// finite last/, a folder holding a run is refused unless --resume or --overwrite.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpointDir } from '../../src/node/checkpoint.js';
import { skipCmudict } from '../data/available.js';
import { runQkv } from '../helpers/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'qkv-rel-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const qkv = (...args: string[]) => runQkv(args, 90_000);

const lastLine = (s: string) => s.trim().split('\n').at(-1)!;

test('lrFactor 1e9 (loss ~1e16): the run stops naming the step with exit 1, and last/ holds finite weights from before', { skip: skipCmudict }, async () => {
  const cfg = join(dir, 'huge-lr.json');
  writeFileSync(cfg, JSON.stringify({ task: 'g2p', preset: 'tiny', lrFactor: 1e9, maxSteps: 400 }));
  const out = join(dir, 'huge-lr');
  const r = await qkv('train', cfg, '--out', out);
  assert.equal(r.code, 1, r.stderr);
  assert.match(lastLine(r.stderr), /^qkv: step (\d+): loss .* the run diverged and stopped .*last keeps step (\d+)$/);
  assert.doesNotMatch(r.stdout, /^done:/m);
  const [, stopped, kept] = /step (\d+):.*keeps step (\d+)$/.exec(lastLine(r.stderr))!.map(Number);
  assert.ok(kept < stopped, `kept ${kept}, stopped ${stopped}`);
  const ck = await readCheckpointDir(join(out, 'last'));
  assert.equal(ck.trainerState!.step, kept);
  for (const [name, t] of ck.modelState) for (const v of t.toArray() as Float32Array) assert.ok(Number.isFinite(v), `${name} holds ${v}`);
});

test("a run folder holding best/ alone, or only a crashed save's copy, is refused; --overwrite replaces it; --overwrite with --resume is a usage error", { skip: skipCmudict }, async () => {
  const out = join(dir, 'taken');
  mkdirSync(join(out, 'best'), { recursive: true });
  const refused = await qkv('train', 'g2p', '--preset', 'tiny', '--out', out, '--steps', '6');
  assert.equal(refused.code, 1);
  assert.match(lastLine(refused.stderr), /already holds a run \(.*best\); pass --resume to continue it, --overwrite to replace it/);
  rmSync(join(out, 'best'), { recursive: true });
  mkdirSync(join(out, 'last.tmp-0a1b2c'));
  const stale = await qkv('train', 'g2p', '--preset', 'tiny', '--out', out, '--steps', '6');
  assert.match(lastLine(stale.stderr), /already holds a run \(.*last\.tmp-0a1b2c\)/);
  const noResume = await qkv('train', 'g2p', '--preset', 'tiny', '--out', out, '--resume');
  assert.equal(noResume.code, 1);
  assert.match(lastLine(noResume.stderr), /no checkpoint to resume from \(only incomplete copies left by an interrupted save/);
  const both = await qkv('train', 'g2p', '--preset', 'tiny', '--out', out, '--resume', '--overwrite');
  assert.equal(both.code, 2);
  const fresh = await qkv('train', 'g2p', '--preset', 'tiny', '--out', out, '--steps', '6', '--overwrite');
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.match(fresh.stderr, /--overwrite: removed the run in .* \(last\.tmp-0a1b2c\)/);
  assert.ok(!existsSync(join(out, 'last.tmp-0a1b2c')));
  assert.equal((await readCheckpointDir(join(out, 'last'))).trainerState!.step, 6);
});
