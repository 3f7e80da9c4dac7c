// Your own data, one row at a time: TSV and JSONL pairs, JSONL documents, bad rows, and line groups of plain text.

import { FormatError } from '../core/errors.js';

/** How a file of pairs is written: `source<TAB>target` lines, or JSON Lines `{"source": ..., "target": ...}`. */
export type PairFormat = 'tsv' | 'jsonl';

/** How a file of text is written: plain lines, or JSON Lines `{"text": ...}` (one document each). */
export type TextFormat = 'text' | 'jsonl';

const JSONL = /\.(jsonl|ndjson)$/i;

/**
 * The format of a file of pairs, from its name: `.jsonl` or `.ndjson` is JSON Lines, anything else TSV.
 *
 * @example
 * pairFormatOf('pairs.jsonl'); // 'jsonl'
 */
export function pairFormatOf(path: string): PairFormat {
  return JSONL.test(path) ? 'jsonl' : 'tsv';
}

/**
 * The format of a file of text, from its name: `.jsonl` or `.ndjson` is JSON Lines, anything else plain text.
 *
 * @example
 * textFormatOf('book.txt'); // 'text'
 */
export function textFormatOf(path: string): TextFormat {
  return JSONL.test(path) ? 'jsonl' : 'text';
}

/** One example of a sequence-to-sequence file, as text. */
export interface TextPair {
  source: string;
  target: string;
}

/** A parsed row: its value, or why it is bad. */
export type Row<T> = { value: T; reason?: undefined } | { value?: undefined; reason: string };

/** True for a line that holds nothing (skipped everywhere, never a bad row). */
export function isBlank(line: string): boolean {
  return line.trim().length === 0;
}

/**
 * One row of a file of pairs. TSV: exactly one tab; JSONL: an object with string fields `source`
 * and `target` (other fields are ignored). Each side is trimmed and must not be empty. A bad row
 * gives the reason, which names what is wrong and what was expected.
 *
 * @example
 * parsePairRow('hello\tHH AH0 L OW1', 'tsv'); // { value: { source: 'hello', target: 'HH AH0 L OW1' } }
 * parsePairRow('hello', 'tsv').reason;        // 'missing tab, expected source<TAB>target'
 */
export function parsePairRow(line: string, format: PairFormat): Row<TextPair> {
  if (format === 'tsv') {
    const fields = line.split('\t');
    if (fields.length === 1) return { reason: 'missing tab, expected source<TAB>target' };
    if (fields.length > 2) return { reason: `${fields.length} tab-separated fields, expected 2 (source<TAB>target)` };
    const [source, target] = fields.map((f) => f.trim());
    if (!source) return { reason: 'empty source (nothing before the tab)' };
    if (!target) return { reason: 'empty target (nothing after the tab)' };
    return { value: { source, target } };
  }
  const obj = parseObject(line, '{"source": ..., "target": ...}');
  if (obj.reason !== undefined) return obj;
  const source = stringField(obj.value, 'source');
  if (source.reason !== undefined) return source;
  const target = stringField(obj.value, 'target');
  if (target.reason !== undefined) return target;
  return { value: { source: source.value, target: target.value } };
}

/**
 * One row of a JSON Lines text file: an object with a string field `text` (one document; other
 * fields are ignored). The text is kept as written; it must not be blank.
 *
 * @example
 * parseDocumentRow('{"text": "Call me Ishmael."}'); // { value: 'Call me Ishmael.' }
 */
export function parseDocumentRow(line: string): Row<string> {
  const obj = parseObject(line, '{"text": ...}');
  if (obj.reason !== undefined) return obj;
  const v = obj.value.text;
  if (v === undefined) return { reason: 'missing field "text"' };
  if (typeof v !== 'string') return { reason: `field "text" is ${describe(v)}, expected a string` };
  if (isBlank(v)) return { reason: 'field "text" is empty' };
  return { value: v };
}

function parseObject(line: string, shape: string): Row<Record<string, unknown>> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return { reason: `not valid JSON (${(e as Error).message})` };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { reason: `${describe(v)}, expected a JSON object ${shape}` };
  return { value: v as Record<string, unknown> };
}

function stringField(obj: Record<string, unknown>, name: string): Row<string> {
  const v = obj[name];
  if (v === undefined) return { reason: `missing field "${name}"` };
  if (typeof v !== 'string') return { reason: `field "${name}" is ${describe(v)}, expected a string` };
  const s = v.trim();
  if (!s) return { reason: `field "${name}" is empty` };
  return { value: s };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** A row of a data file is malformed; the message is `file:line: reason`. */
export class BadRowError extends FormatError {
  constructor(readonly file: string, readonly line: number, readonly reason: string) {
    super(`${file}:${line}: ${reason}`);
  }
}

/**
 * Where bad rows go: with `skip`, counted (and the first one kept for the report); without it,
 * the first bad row throws its {@link BadRowError}.
 *
 * @example
 * const bad = new BadRows(true);
 * bad.report('pairs.tsv', 3, 'missing tab, expected source<TAB>target');
 * bad.summary(); // 'skipped 1 bad row (first: pairs.tsv:3: missing tab, expected source<TAB>target)'
 */
export class BadRows {
  count = 0;
  first: BadRowError | null = null;

  constructor(readonly skip: boolean) {}

  /** A bad row: throws unless skipping. */
  report(file: string, line: number, reason: string): void {
    const e = new BadRowError(file, line, reason);
    if (!this.skip) throw e;
    this.count++;
    this.first ??= e;
  }

  /** `skipped N bad rows (first: file:line: reason)`, or null when none were skipped. */
  summary(): string | null {
    if (this.count === 0) return null;
    return `skipped ${this.count} bad row${this.count === 1 ? '' : 's'} (first: ${this.first!.message})`;
  }
}

/** Lines of plain text per group at most (a group also ends at a blank line). */
export const LINES_PER_GROUP = 20;

/**
 * Cuts plain text, line by line, into the groups its hashed hold-out and tokenizer see: a group
 * ends after a blank line (a paragraph) or after {@link LINES_PER_GROUP} lines. A group's text is
 * its lines each ending in '\n', blank lines included, so the groups of a file put together give
 * the file back (line endings as '\n').
 *
 * @example
 * const g = new LineGroups();
 * g.push('Call me Ishmael.'); // null: the paragraph goes on
 * g.push('');                 // 'Call me Ishmael.\n\n'
 * g.flush();                  // null: nothing left
 */
export class LineGroups {
  private lines: string[] = [];

  /** Adds a line; returns the group it completes, if any. */
  push(line: string): string | null {
    this.lines.push(line);
    if (isBlank(line) || this.lines.length >= LINES_PER_GROUP) return this.flush();
    return null;
  }

  /** The group in progress (at the end of the file), or null when there is none. */
  flush(): string | null {
    if (this.lines.length === 0) return null;
    const text = this.lines.join('\n') + '\n';
    this.lines = [];
    return text;
  }
}
