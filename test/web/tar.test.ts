// The page's tar writer (a checkpoint folder downloads as one file): the system's tar extracts it to the same bytes.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { tarFolder } from '../../web/src/tar.js';

test('tarFolder: tar xf gives the folder with every file byte for byte (sizes on and off the 512-byte blocks)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-tar-'));
  try {
    const big = new Uint8Array(1536).map((_, i) => (i * 31) & 255);
    const files = { 'config.json': '{"format": "qkv-checkpoint", "é": 1}\n', 'model.safetensors': big, 'empty.txt': '', 'odd.bin': big.subarray(0, 513) };
    writeFileSync(join(dir, 'x.tar'), tarFolder('ck', files, 1_700_000_000));
    const listing = execFileSync('tar', ['tvf', join(dir, 'x.tar')], { encoding: 'utf8' });
    assert.match(listing, /ck\/config\.json/);
    execFileSync('tar', ['xf', join(dir, 'x.tar'), '-C', dir]);
    for (const [name, content] of Object.entries(files)) {
      const want = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
      assert.deepEqual(readFileSync(join(dir, 'ck', name)), want, name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
