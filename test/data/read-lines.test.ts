// Reading a large file as a stream: a ~50 MB file of pairs and a ~25 MB text file go through readPairs
// and readTextGroups (tokenized as they come) with the live heap staying well below (under a quarter of) the file's size.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DataFileError, readLines, readPairs, readTextGroups } from '../../src/data/index.js';
import type { ReadProgress } from '../../src/data/index.js';
import { CharTokenizer } from '../../src/tokenizers/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const dir = mkdtempSync(join(tmpdir(), 'qkv-stream-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** Writes `lines` lines made by `line(i)` in 1 MB chunks (the file itself never exists as one string). */
function writeLines(path: string, count: number, line: (i: number) => string): number {
  const fd = openSync(path, 'w');
  let chunk: string[] = [];
  let size = 0;
  for (let i = 0; i < count; i++) {
    chunk.push(line(i));
    size += chunk[chunk.length - 1].length;
    if (size > 1 << 20) {
      writeSync(fd, chunk.join('\n') + '\n');
      chunk = [];
      size = 0;
    }
  }
  if (chunk.length) writeSync(fd, chunk.join('\n') + '\n');
  closeSync(fd);
  return statSync(path).size;
}

/** The live heap (after a full collection) in bytes. */
function liveHeap(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

test('a ~50 MB file of pairs is read row by row with bounded memory, every row counted, progress up to its size', async () => {
  const path = join(dir, 'pairs.tsv');
  const rows = 900_000;
  const bytes = writeLines(path, rows, (i) => `source number ${i} with some words\ttarget ${i % 977} of pair ${i}`);
  assert.ok(bytes > 45e6, `the file has ${bytes} bytes`);
  const before = liveHeap();
  let peak = 0;
  let n = 0;
  let chars = 0;
  let last: ReadProgress | null = null;
  let monotonic = true;
  for await (const p of readPairs(path, { onProgress: (x) => { if (last && x.bytes < last.bytes) monotonic = false; last = x; } })) {
    n++;
    chars += p.source.length + p.target.length;
    if (n % 150_000 === 0) peak = Math.max(peak, liveHeap() - before);
  }
  assert.equal(n, rows);
  assert.equal(chars, bytes - 2 * rows); // every character but the tab and the newline of each row
  assert.ok(monotonic);
  assert.deepEqual(last, { file: path, bytes, totalBytes: bytes });
  assert.ok(peak < bytes / 4, `live heap grew by ${(peak / 1e6).toFixed(1)} MB while reading a ${(bytes / 1e6).toFixed(1)} MB file`);
});

test('a ~25 MB text file is read and tokenized group by group with bounded memory', async () => {
  const path = join(dir, 'book.txt');
  const bytes = writeLines(path, 500_000, (i) => (i % 7 === 6 ? '' : `Line ${i} of a long book, written to be read one paragraph at a time.`));
  const tok = CharTokenizer.fromCorpus(['Line 0123456789 of a long book, written to be read one paragraph at a time.\n']);
  const before = liveHeap();
  let peak = 0;
  let groups = 0;
  let tokens = 0;
  for await (const g of readTextGroups(path)) {
    tokens += tok.encode(g).length;
    if (++groups % 20_000 === 0) peak = Math.max(peak, liveHeap() - before);
  }
  assert.equal(tokens, bytes); // one token per character, newlines included: the groups are the whole file
  assert.ok(groups > 60_000);
  assert.ok(peak < bytes / 4, `live heap grew by ${(peak / 1e6).toFixed(1)} MB while reading a ${(bytes / 1e6).toFixed(1)} MB file`);
});

test('readLines: \\r\\n line ends and a byte-order mark are removed; a missing file or a folder is a DataFileError naming it', async () => {
  const path = join(dir, 'crlf.tsv');
  const fd = openSync(path, 'w');
  writeSync(fd, '\uFEFFa\tb\r\nc\td\r\n\r\ne\tf');
  closeSync(fd);
  const lines: string[] = [];
  for await (const l of readLines(path)) lines.push(l);
  assert.deepEqual(lines, ['a\tb', 'c\td', '', 'e\tf']);
  const drain = async (p: string) => { for await (const _ of readLines(p)) { /* nothing */ } };
  await assert.rejects(drain(join(dir, 'nope.tsv')), (e: Error) => e instanceof DataFileError && e.message === `${join(dir, 'nope.tsv')}: no such file`);
  await assert.rejects(drain(dir), (e: Error) => e instanceof DataFileError && e.message === `${dir}: is a folder, expected a text file`);
});
