// `qkv classify` (label and probability of each text) and `qkv fill-mask` (BERT's top fillers of each [MASK]).

import { readFileSync } from 'node:fs';
import { LIMITS } from '../core/limits.js';
import { isBlank, parseDocumentRow } from '../data/user-files.js';
import type { FillMaskPipeline, TextClassificationPipeline } from '../inference/pipeline.js';
import type { LabelScore, MaskFill } from '../inference/classification.js';
import { pipeline } from '../node/pretrained.js';
import { CliError, UsageError } from './errors.js';
import { stdio } from './train.js';
import type { Output } from './train.js';

/** The flags of `qkv classify`. */
export interface ClassifyFlags {
  /** Texts from this file: one a line, or JSON Lines with a "text" field (.jsonl, .ndjson). */
  file?: string;
  /** Print the this many most likely labels of each text (default 1). */
  topK?: number;
}

const JSONL = /\.(jsonl|ndjson)$/i;

/**
 * The texts of a file or of stdin: one a line (blank lines skipped), or, for a `.jsonl` file or
 * input whose first line is a JSON object, the "text" field of each line. A bad JSON line is a
 * CliError naming `where:line` and what is wrong.
 *
 * @example
 * textsOf('one\n\ntwo\n', 'texts.txt', false); // ['one', 'two']
 */
export function textsOf(content: string, where: string, jsonl: boolean): string[] {
  const lines = content.split('\n').map((l) => l.replace(/\r$/, ''));
  const first = lines.find((l) => !isBlank(l));
  const asJson = jsonl || (first !== undefined && first.trimStart().startsWith('{'));
  const out: string[] = [];
  lines.forEach((line, i) => {
    if (isBlank(line)) return;
    if (!asJson) {
      out.push(line.trim());
      return;
    }
    const row = parseDocumentRow(line);
    if (row.reason !== undefined) throw new CliError(`${where}:${i + 1}: ${row.reason}`);
    out.push(row.value);
  });
  return out;
}

/** The texts to answer: the arguments, else --file, else stdin (a pipe). */
async function texts(args: string[], file: string | undefined, what: string): Promise<string[]> {
  if (args.length > 0 && file !== undefined) throw new UsageError(`both ${what} arguments and --file ${file} given, expected one of them`);
  if (args.length > 0) return args;
  let list: string[];
  if (file !== undefined) {
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (e) {
      throw new CliError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    list = textsOf(content, file, JSONL.test(file));
  } else {
    if (process.stdin.isTTY) throw new UsageError(`no ${what} given, expected an argument, --file FILE, or lines on stdin`);
    let content = '';
    for await (const chunk of process.stdin) content += chunk;
    list = textsOf(content, 'stdin', false);
  }
  if (list.length === 0) throw new UsageError(`no ${what} given (${file ?? 'stdin'} holds none), expected at least one`);
  return list;
}

/** `label<TAB>probability`, and more pairs with --top-k. */
function labelLine(scores: readonly LabelScore[]): string {
  return scores.map((s) => `${s.label}\t${s.score.toFixed(4)}`).join('\t');
}

/**
 * `qkv classify <ckpt> "text"...`: one line per text, in order: its most likely label and that
 * label's probability (with --top-k, the k most likely, tab-separated). The text-classification
 * pipeline answers; texts come from the arguments, --file, or stdin.
 */
export async function classifyCommand(path: string, args: string[], flags: ClassifyFlags, io: Output = stdio): Promise<void> {
  const list = await texts(args, flags.file, 'texts');
  const classify = (await pipeline('text-classification', path)) as TextClassificationPipeline;
  for (let i = 0; i < list.length; i += LIMITS.maxBatch) {
    // topK null: every label, one list per text (topK 1 would give one object per text).
    const answers = (await classify(list.slice(i, i + LIMITS.maxBatch), { topK: null })) as LabelScore[][];
    for (const a of answers) io.out(labelLine(a.slice(0, flags.topK ?? 1)));
  }
}

/** The flags of `qkv fill-mask`. */
export interface FillMaskFlags {
  topK?: number;
}

/**
 * `qkv fill-mask <ckpt> "text with [MASK]"...`: for each [MASK] of each text, its top fillers one a
 * line: `score<TAB>token<TAB>the text filled in`; a blank line between masks and texts.
 */
export async function fillMaskCommand(path: string, args: string[], flags: FillMaskFlags, io: Output = stdio): Promise<void> {
  const list = await texts(args, undefined, 'texts');
  const fill = (await pipeline('fill-mask', path)) as FillMaskPipeline;
  let first = true;
  for (const text of list) {
    const a = await fill(text, { topK: flags.topK ?? 5 });
    const perMask: MaskFill[][] = Array.isArray(a[0]) ? (a as MaskFill[][]) : [a as MaskFill[]];
    for (const fills of perMask) {
      if (!first) io.out('');
      first = false;
      for (const f of fills) io.out(`${f.score.toFixed(4)}\t${f.tokenStr}\t${f.sequence}`);
    }
  }
}
