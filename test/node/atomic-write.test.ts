// Atomic file and folder writes, and the safetensors file wrappers, on a real temporary directory.

import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ArgumentError, FormatError } from '../../src/core/errors.js';
import { DIR_MANIFEST, findCompleteCopy, isCompleteDir, loadSafetensorsFile, saveSafetensorsFile, staleCopies, writeDirAtomic, writeFileAtomic } from '../../src/node/atomic-write.js';
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
  assert.deepEqual(readdirSync(ck).sort(), [DIR_MANIFEST, 'config.json', 'model.safetensors', 'optim']);
  assert.equal(readFileSync(join(ck, 'config.json'), 'utf8'), '{"a":1}');
  assert.equal(readFileSync(join(ck, 'optim', 'state.json'), 'utf8'), '{}');
  assert.deepEqual(readdirSync(d), ['ckpt']);
});

test('writeDirAtomic replaces the whole folder: old files not in the new set are gone', async () => {
  const d = fresh();
  const ck = join(d, 'ckpt');
  await writeDirAtomic(ck, { 'a.txt': 'old a', 'b.txt': 'old b' });
  await writeDirAtomic(ck + '/', { 'a.txt': 'new a' });
  assert.deepEqual(readdirSync(ck).sort(), [DIR_MANIFEST, 'a.txt']);
  assert.equal(readFileSync(join(ck, 'a.txt'), 'utf8'), 'new a');
  assert.deepEqual(readdirSync(d), ['ckpt'], 'no .tmp- or .old- folders left behind');
});

test('writeDirAtomic that fails while writing leaves the old folder intact and no temporary', async () => {
  const d = fresh();
  const ck = join(d, 'ckpt');
  await writeDirAtomic(ck, { 'a.txt': 'old a' });
  const bad = { 'a.txt': 'new a', 'b.txt': 42 as unknown as string };
  await assert.rejects(writeDirAtomic(ck, bad));
  assert.deepEqual(readdirSync(ck).sort(), [DIR_MANIFEST, 'a.txt']);
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

test('writeDirAtomic writes its manifest last: a folder is complete only while every listed file has its size', async () => {
  const d = join(fresh(), 'ckpt');
  await writeDirAtomic(d, { 'a.json': '{"x":1}', 'sub/b.bin': new Uint8Array(5) });
  const manifest = JSON.parse(readFileSync(join(d, DIR_MANIFEST), 'utf8'));
  assert.deepEqual(manifest, { files: { 'a.json': 7, 'sub/b.bin': 5 } });
  assert.equal(await isCompleteDir(d), true);
  writeFileSync(join(d, 'sub', 'b.bin'), new Uint8Array(3)); // truncated
  assert.equal(await isCompleteDir(d), false);
  writeFileSync(join(d, 'sub', 'b.bin'), new Uint8Array(5));
  rmSync(join(d, 'a.json')); // half-deleted
  assert.equal(await isCompleteDir(d), false);
  const noManifest = join(fresh(), 'plain');
  mkdirSync(noManifest);
  writeFileSync(join(noManifest, 'a.json'), '{}');
  assert.equal(await isCompleteDir(noManifest), false, 'a folder without a manifest is never taken as complete');
  await assert.rejects(writeDirAtomic(join(fresh(), 'x'), { [DIR_MANIFEST]: '{}' }), /reserved/);
});

test('writeDirAtomic removes .tmp-* and .old-* folders that earlier crashed saves left, and only those', async () => {
  const d = fresh();
  const target = join(d, 'last');
  await writeDirAtomic(target, { 'a.txt': 'one' });
  for (const stale of ['last.tmp-aaaaaa', 'last.old-bbbbbb']) {
    mkdirSync(join(d, stale));
    writeFileSync(join(d, stale, 'a.txt'), 'torn');
  }
  mkdirSync(join(d, 'best.tmp-cccccc')); // another folder's: not ours to clean
  assert.deepEqual((await staleCopies(target)).length, 2);
  await writeDirAtomic(target, { 'a.txt': 'two' });
  assert.deepEqual(readdirSync(d).sort(), ['best.tmp-cccccc', 'last']);
  assert.equal(readFileSync(join(target, 'a.txt'), 'utf8'), 'two');
});

test('findCompleteCopy: a kill between the two renames leaves complete copies; torn ones are never chosen', async () => {
  const d = fresh();
  const target = join(d, 'last');
  await writeDirAtomic(target, { 'a.txt': 'v1', 'b.txt': 'v1' });
  // What a kill between `rename(dir, .old)` and `rename(tmp, dir)` leaves: the old folder aside, no dir.
  const { renameSync } = await import('node:fs');
  renameSync(target, join(d, 'last.old-111111'));
  assert.equal(await findCompleteCopy(target), join(d, 'last.old-111111'));
  // A torn temporary (no manifest yet) beside it is skipped.
  mkdirSync(join(d, 'last.tmp-222222'));
  writeFileSync(join(d, 'last.tmp-222222', 'a.txt'), 'v2');
  assert.equal(await findCompleteCopy(target), join(d, 'last.old-111111'));
  // A half-deleted old copy is not complete: nothing to fall back on.
  rmSync(join(d, 'last.old-111111', 'b.txt'));
  assert.equal(await findCompleteCopy(target), null);
});
