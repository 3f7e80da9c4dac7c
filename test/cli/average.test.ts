// qkv average, run as a user runs it: a run trained with keepCheckpoints keeps its newest snapshots, and
// `qkv average --last N` writes their element-wise mean as a checkpoint that the other commands read.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { averageCommand } from '../../src/cli/average.js';
import { readCheckpointDir } from '../../src/node/checkpoint.js';
import { skipCmudict } from '../data/available.js';
import { runQkv } from '../helpers/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'qkv-avg-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const qkv = (...args: string[]) => runQkv(args, 90_000);

test('keepCheckpoints 2 keeps the last two saves in snapshots/; qkv average --last 2 writes their mean; bad uses are named', { skip: skipCmudict }, async () => {
  const cfg = join(dir, 'g2p.json');
  writeFileSync(cfg, JSON.stringify({ task: 'g2p', preset: 'tiny', maxSteps: 6, saveEvery: 2, evalEvery: 3, evalWords: 20, keepCheckpoints: 2 }));
  const run = join(dir, 'run');
  const trained = await qkv('train', cfg, '--out', run);
  assert.equal(trained.code, 0, trained.stderr);
  assert.match(trained.stdout, /\| validLoss .* wer /);
  assert.deepEqual(readdirSync(join(run, 'snapshots')).sort(), ['step-00000004', 'step-00000006']);
  assert.deepEqual(readdirSync(join(run, 'snapshots', 'step-00000004')).sort(), ['.qkv-manifest.json', 'config.json', 'metrics.json', 'model.safetensors', 'target_tokenizer.json', 'tokenizer.json']);

  const out = join(dir, 'avg');
  const said: string[] = [];
  await averageCommand([run], { last: 2, out }, { out: (s) => said.push(s), err: () => undefined });
  assert.match(said.join('\n'), /the mean of 2 checkpoints/);
  const [a, b, m] = await Promise.all(['step-00000004', 'step-00000006'].map((s) => readCheckpointDir(join(run, 'snapshots', s))).concat(readCheckpointDir(out)));
  assert.equal(m.trainerState, null);
  assert.equal(m.modelState.size, a.modelState.size);
  let differ = 0;
  for (const [name, t] of m.modelState) {
    const x = a.modelState.get(name)!.toArray(), y = b.modelState.get(name)!.toArray(), z = t.toArray();
    for (let i = 0; i < z.length; i++) {
      assert.equal(z[i], Math.fround((x[i] + y[i]) / 2), `${name}[${i}]`);
      if (x[i] !== y[i]) differ++;
    }
  }
  assert.ok(differ > 1000, `the two snapshots differ in ${differ} weights`);
  const used = await qkv('g2p', out, 'cat');
  assert.equal(used.code, 0, used.stderr);

  const quiet = { out: () => undefined, err: () => undefined };
  await assert.rejects(averageCommand([run], { last: 3, out: join(dir, 'avg3') }, quiet), /snapshots: 2 snapshots, expected at least 3 \(train with "keepCheckpoints": 3/);
  await assert.rejects(averageCommand([join(run, 'best')], { out: join(dir, 'avg1') }, quiet), /1 checkpoint given, expected two or more/);
  await assert.rejects(averageCommand([run], { last: 2, out }, quiet), /already exists/);
});
