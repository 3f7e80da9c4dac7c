// Atomic file and folder writes, and the safetensors file wrappers, on a real temporary directory.

import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ArgumentError, FormatError } from '../../src/core/errors.js';
import { loadSafetensorsFile, saveSafetensorsFile, writeDirAtomic, writeFileAtomic } from '../../src/node/atomic-write.js';
import { tensor } from '../../src/tensor/index.js';

const root = mkdtempSync(join(tmpdir(), 'qkv-atomic-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => {
  const d = join(root, `case-${n++}`);
  mkdirSync(d);
  return d;
};

test('writeFileAtomic creates and replaces a file, leaving no temporaries', async () => {
  const d = fresh();
  const p = join(d, 'a.bin');
  await writeFileAtomic(p, new Uint8Array([1, 2, 3]));
  assert.deepEqual([...readFileSync(p)], [1, 2, 3]);
  await writeFileAtomic(p, 'hello');
  assert.equal(readFileSync(p, 'utf8'), 'hello');
  assert.deepEqual(readdirSync(d), ['a.bin']);
});

test('writeFileAtomic removes its temporary when the rename fails, and rethrows', async () => {
  const d = fresh();
  const p = join(d, 'target');
  mkdirSync(join(p, 'child'), { recursive: true }); // renaming a file over a non-empty folder fails
  await assert.rejects(writeFileAtomic(p, 'x'), (e: NodeJS.ErrnoException) => typeof e.code === 'string');
  assert.deepEqual(readdirSync(d), ['target']);
  assert.deepEqual(readdirSync(p), ['child']);
});

test('writeFileAtomic into a missing folder fails cleanly', async () => {
  const d = fresh();
  await assert.rejects(writeFileAtomic(join(d, 'nope', 'a.bin'), 'x'), { code: 'ENOENT' });
  assert.deepEqual(readdirSync(d), []);
});

test('writeDirAtomic creates a folder with nested files', async () => {
  const d = fresh();
  const ck = join(d, 'ckpt');
  await writeDirAtomic(ck, { 'model.safetensors': new Uint8Array([9, 8]), 'config.json': '{"a":1}', 'optim/state.json': '{}' });
  assert.deepEqual(readdirSync(ck).sort(), ['config.json', 'model.safetensors', 'optim']);
  assert.equal(readFileSync(join(ck, 'config.json'), 'utf8'), '{"a":1}');
  assert.equal(readFileSync(join(ck, 'optim', 'state.json'), 'utf8'), '{}');
  assert.deepEqual(readdirSync(d), ['ckpt']);
});

test('writeDirAtomic replaces the whole folder: old files not in the new set are gone', async () => {
  const d = fresh();
  const ck = join(d, 'ckpt');
  await writeDirAtomic(ck, { 'a.txt': 'old a', 'b.txt': 'old b' });
  await writeDirAtomic(ck + '/', { 'a.txt': 'new a' });
  assert.deepEqual(readdirSync(ck), ['a.txt']);
  assert.equal(readFileSync(join(ck, 'a.txt'), 'utf8'), 'new a');
  assert.deepEqual(readdirSync(d), ['ckpt'], 'no .tmp- or .old- folders left behind');
});

test('writeDirAtomic that fails while writing leaves the old folder intact and no temporary', async () => {
  const d = fresh();
  const ck = join(d, 'ckpt');
  await writeDirAtomic(ck, { 'a.txt': 'old a' });
  const bad = { 'a.txt': 'new a', 'b.txt': 42 as unknown as string };
  await assert.rejects(writeDirAtomic(ck, bad));
  assert.deepEqual(readdirSync(ck), ['a.txt']);
  assert.equal(readFileSync(join(ck, 'a.txt'), 'utf8'), 'old a');
  assert.deepEqual(readdirSync(d), ['ckpt']);
});

test('writeDirAtomic refuses names that escape the folder, and a target that is a file', async () => {
  const d = fresh();
  await assert.rejects(writeDirAtomic(join(d, 'ck'), { '../evil': 'x' }), ArgumentError);
  await assert.rejects(writeDirAtomic(join(d, 'ck'), { '/etc/evil': 'x' }), ArgumentError);
  await assert.rejects(writeDirAtomic(join(d, 'ck'), { 'a/../../evil': 'x' }), /must be a relative path inside the folder/);
  writeFileSync(join(d, 'file'), 'keep');
  await assert.rejects(writeDirAtomic(join(d, 'file'), { a: 'x' }), /exists and is not a directory/);
  assert.equal(readFileSync(join(d, 'file'), 'utf8'), 'keep');
  assert.deepEqual(readdirSync(d), ['file']);
});

test('saveSafetensorsFile then loadSafetensorsFile round-trips tensors and metadata', async () => {
  const d = fresh();
  const p = join(d, 'model.safetensors');
  await saveSafetensorsFile(p, { w: tensor([[1, 2], [3, 4]]), ids: tensor([5, 6], { dtype: 'int32' }) }, { format: 'pt' });
  const { tensors, metadata } = await loadSafetensorsFile(p);
  assert.deepEqual(metadata, { format: 'pt' });
  assert.deepEqual(tensors.get('w')!.toList(), [[1, 2], [3, 4]]);
  assert.equal(tensors.get('ids')!.dtype, 'int32');
  assert.deepEqual(Array.from(tensors.get('ids')!.toArray()), [5, 6]);
});

test('loadSafetensorsFile errors name the path', async () => {
  const d = fresh();
  const p = join(d, 'broken.safetensors');
  writeFileSync(p, new Uint8Array([1, 2, 3]));
  await assert.rejects(loadSafetensorsFile(p), (e: unknown) => e instanceof FormatError && e.message.startsWith(`${p}: file is 3 bytes`));
});
