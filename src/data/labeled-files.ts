// Your own labelled text (classification): TSV with a header row, or JSON Lines, read as a stream of { text, label }.

import { readLines } from './load.js';
import type { ReadProgress } from './load.js';
import { BadRowError, BadRows, isBlank } from './user-files.js';
import type { Row } from './user-files.js';

/** One labelled example of a file: where it is (`file:line`), the text and its label, as written (trimmed). Shaped as spam.ts's LabeledText. */
export interface TextLabel {
  id: string;
  text: string;
  label: string;
}

/** Which fields of a labelled file hold the text and the label. */
export interface LabelColumns {
  /** The TSV header's column (or the JSON Lines field) holding the text (default 'text'). */
  textColumn?: string;
  /** The column (or field) holding the label (default 'label'). */
  labelColumn?: string;
}

/** Options of {@link readLabeledTexts}. */
export interface ReadLabeledOptions extends LabelColumns {
  /** Where bad rows go (default: a BadRows that throws at the first). */
  badRows?: BadRows;
  onProgress?: (p: ReadProgress) => void;
}

const JSONL = /\.(jsonl|ndjson)$/i;

/**
 * One JSON Lines row of a labelled file: an object with a string field `textColumn` and a label
 * in `labelColumn` (a string, or a number or boolean written as text); other fields are ignored.
 *
 * @example
 * parseLabeledJson('{"text": "win money", "label": "spam"}'); // { value: { text: 'win money', label: 'spam' } }
 */
export function parseLabeledJson(line: string, c: LabelColumns = {}): Row<Omit<TextLabel, 'id'>> {
  const textColumn = c.textColumn ?? 'text';
  const labelColumn = c.labelColumn ?? 'label';
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return { reason: `not valid JSON (${(e as Error).message})` };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { reason: `${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}, expected a JSON object {"${textColumn}": ..., "${labelColumn}": ...}` };
  const o = v as Record<string, unknown>;
  const fields = Object.keys(o).map((k) => JSON.stringify(k)).join(', ') || 'none';
  if (!(textColumn in o)) return { reason: `missing field "${textColumn}" (fields: ${fields}), expected the text there (or name its field with textColumn)` };
  if (!(labelColumn in o)) return { reason: `missing field "${labelColumn}" (fields: ${fields}), expected the label there (or name its field with labelColumn)` };
  const text = o[textColumn];
  const label = o[labelColumn];
  if (typeof text !== 'string') return { reason: `field "${textColumn}" is ${typeof text}, expected a string` };
  if (isBlank(text)) return { reason: `field "${textColumn}" is empty` };
  if (typeof label !== 'string' && typeof label !== 'number' && typeof label !== 'boolean') return { reason: `field "${labelColumn}" is ${label === null ? 'null' : typeof label}, expected a string (or a number)` };
  const name = String(label).trim();
  if (!name) return { reason: `field "${labelColumn}" is empty` };
  return { value: { text: text.trim(), label: name } };
}

/**
 * The examples of a labelled file, one at a time, read as a stream. `.jsonl`/`.ndjson`: one JSON
 * object a line (see parseLabeledJson). Anything else is TSV whose first line is a header naming
 * the columns (`text<TAB>label`, more columns allowed): a header without `textColumn` or
 * `labelColumn` is a BadRowError at line 1 naming the columns it has. Blank lines are skipped; a bad
 * row goes to `badRows` (by default the first throws, naming `file:line` and the reason).
 *
 * @example
 * for await (const { text, label } of readLabeledTexts('reviews.tsv')) count(label); // id: 'reviews.tsv:2', ...
 */
export async function* readLabeledTexts(path: string, opts: ReadLabeledOptions = {}): AsyncGenerator<TextLabel> {
  const bad = opts.badRows ?? new BadRows(false);
  const textColumn = opts.textColumn ?? 'text';
  const labelColumn = opts.labelColumn ?? 'label';
  const jsonl = JSONL.test(path);
  let header: string[] | null = null;
  let ti = -1;
  let li = -1;
  let n = 0;
  for await (const line of readLines(path, { onProgress: opts.onProgress })) {
    n++;
    if (isBlank(line)) continue;
    if (jsonl) {
      const row = parseLabeledJson(line, opts);
      if (row.reason !== undefined) bad.report(path, n, row.reason);
      else yield { id: `${path}:${n}`, ...row.value };
      continue;
    }
    const fields = line.split('\t');
    if (header === null) {
      header = fields.map((f) => f.trim());
      ti = header.indexOf(textColumn);
      li = header.indexOf(labelColumn);
      const missing = ti < 0 ? ['text', textColumn] : li < 0 ? ['label', labelColumn] : null;
      if (missing) {
        // A header that does not fit is not a bad row to skip: no row of the file can be read.
        throw new BadRowError(path, n, `the header has no column "${missing[1]}" (columns: ${header.map((h) => JSON.stringify(h)).join(', ')}), expected a header row naming the ${missing[0]} column (or name it with ${missing[0]}Column)`);
      }
      continue;
    }
    if (fields.length !== header.length) {
      bad.report(path, n, `${fields.length} tab-separated fields, expected ${header.length} (the header's ${header.join(', ')})`);
      continue;
    }
    const text = fields[ti].trim();
    const label = fields[li].trim();
    if (!text) bad.report(path, n, `empty text (column "${textColumn}")`);
    else if (!label) bad.report(path, n, `empty label (column "${labelColumn}")`);
    else yield { id: `${path}:${n}`, text, label };
  }
}
