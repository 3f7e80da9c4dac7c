// `qkv serve`'s arguments: how models are named, and a checkpoint that will not load is one line naming it (exit 1).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { modelSpec } from '../../src/cli/serve.js';
import { qkv } from '../helpers/cli-process.js';

test('a model is named by its folder (a run folder\'s best/ or last/ by the run), or by name=folder', () => {
  assert.deepEqual(modelSpec('runs/lm-small'), { name: 'lm-small', path: 'runs/lm-small' });
  assert.deepEqual(modelSpec('runs/lm-small/best'), { name: 'lm-small', path: 'runs/lm-small/best' });
  assert.deepEqual(modelSpec('runs/g2p/last/'), { name: 'g2p', path: 'runs/g2p/last/' });
  assert.deepEqual(modelSpec('poet=runs/lm/best'), { name: 'poet', path: 'runs/lm/best' });
  assert.deepEqual(modelSpec('/tmp/a=b/c'), { name: 'c', path: '/tmp/a=b/c' });
});

test('qkv serve of a folder that holds no checkpoint: one line naming it, exit 1; two models of one name: exit 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-serve-cli-'));
  try {
    const r = await qkv('serve', dir, '--port', '0');
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => l && !l.includes('native backend unavailable'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], new RegExp(`^qkv: model '${dir.split('/').pop()}' \\(${dir}\\): `));
    const twice = await qkv('serve', `a=${dir}`, `a=${dir}`, '--port', '0');
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /two models are named 'a', expected one name each/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
