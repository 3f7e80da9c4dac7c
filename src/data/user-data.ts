// Your own data files as streams: pairs and text groups read line by line, the hashed hold-out, token-id buffers.

import { readLines } from './load.js';
import type { ReadProgress } from './load.js';
import { isHeldOut } from './split.js';
import { BadRows, LineGroups, isBlank, pairFormatOf, parseDocumentRow, parsePairRow, textFormatOf } from './user-files.js';
import type { TextPair } from './user-files.js';

/** Options of {@link readPairs} and {@link readTextGroups}. */
export interface ReadDataOptions {
  /** Where bad rows go (default: a BadRows that throws at the first). */
  badRows?: BadRows;
  /** Progress of the read (see readLines). */
  onProgress?: (p: ReadProgress) => void;
}

/**
 * The pairs of a TSV or JSONL file (the format from its name, see pairFormatOf), one at a time,
 * read as a stream. Blank lines are skipped; a bad row goes to `badRows` (by default the first
 * one throws a BadRowError naming `file:line` and the reason).
 *
 * @example
 * for await (const { source, target } of readPairs('pairs.tsv')) console.log(source, '→', target);
 */
export async function* readPairs(path: string, opts: ReadDataOptions = {}): AsyncGenerator<TextPair> {
  const format = pairFormatOf(path);
  const bad = opts.badRows ?? new BadRows(false);
  let n = 0;
  for await (const line of readLines(path, { onProgress: opts.onProgress })) {
    n++;
    if (isBlank(line)) continue;
    const row = parsePairRow(line, format);
    if (row.reason !== undefined) bad.report(path, n, row.reason);
    else yield row.value;
  }
}

/**
 * The text of a file as the units its hold-out and tokenizer see, read as a stream: for JSON Lines
 * one document per line (`{"text": ...}`, each followed by a blank line, as documents are joined);
 * for plain text the line groups of LineGroups (paragraphs, at most LINES_PER_GROUP lines each).
 *
 * @example
 * for await (const group of readTextGroups('book.txt')) ids.push(...tok.encode(group));
 */
export async function* readTextGroups(path: string, opts: ReadDataOptions = {}): AsyncGenerator<string> {
  const lines = readLines(path, { onProgress: opts.onProgress });
  if (textFormatOf(path) === 'text') {
    const groups = new LineGroups();
    for await (const line of lines) {
      const g = groups.push(line);
      if (g !== null) yield g;
    }
    const last = groups.flush();
    if (last !== null) yield last;
    return;
  }
  const bad = opts.badRows ?? new BadRows(false);
  let n = 0;
  for await (const line of lines) {
    n++;
    if (isBlank(line)) continue;
    const row = parseDocumentRow(line);
    if (row.reason !== undefined) bad.report(path, n, row.reason);
    else yield row.value + '\n\n';
  }
}

/**
 * Which split a unit of your data is in: with a separate valid file everything from the train
 * file is 'train'; without one, {@link isHeldOut}(key, validShare) decides.
 *
 * @example
 * splitOfRow('hello', { validFile: false, validShare: 0.05 }); // 'train' or 'valid', the same every run
 */
export function splitOfRow(key: string, o: { validFile: boolean; validShare: number }): 'train' | 'valid' {
  return !o.validFile && isHeldOut(key, o.validShare) ? 'valid' : 'train';
}

/**
 * A growing list of token ids in one Int32Array (doubling as it fills), so a long text is held
 * as 4 bytes a token, never as a string or an array of numbers.
 *
 * @example
 * const ids = new TokenBuffer();
 * ids.push([5, 6, 7]);
 * ids.toArray(); // Int32Array [5, 6, 7]
 */
export class TokenBuffer {
  private data = new Int32Array(1024);
  length = 0;

  push(ids: readonly number[]): void {
    if (this.length + ids.length > this.data.length) {
      let cap = this.data.length;
      while (cap < this.length + ids.length) cap *= 2;
      const next = new Int32Array(cap);
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    for (let i = 0; i < ids.length; i++) this.data[this.length + i] = ids[i];
    this.length += ids.length;
  }

  /** The ids so far: a view of the buffer (no copy), valid until the next push. */
  toArray(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}
