// The lm recipe on your own text: a .txt or JSONL file read as a stream into token ids, with a hashed hold-out.

import { ArgumentError } from '../../core/errors.js';
import type { ReadProgress } from '../../data/load.js';
import { TokenBuffer, readTextGroups, splitOfRow } from '../../data/user-data.js';
import { BadRows } from '../../data/user-files.js';
import { tokenizerBuilder } from '../../tokenizers/builder.js';
import type { TokenizerKind } from '../../tokenizers/builder.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import { reusedTokenizer } from './reuse.js';
import type { ReuseTokenizers } from './run.js';

/** The fields of an lm config that say where your own text is (see LmConfig). */
export interface LmTextFields {
  train: string | null;
  valid: string | null;
  skipBadRows: boolean;
  validShare: number;
  tokenizer: string;
  vocabSize: number;
  maxTrainExamples: number | null;
  evalChars: number;
}

/** Your text as the run uses it. */
export interface LmText {
  tokenizer: Tokenizer;
  /** Training token ids, in file order. */
  train: Int32Array;
  /** Valid token ids scored at each evaluation (the first `evalChars` characters of the valid text). */
  valid: Int32Array;
  trainChars: number;
  /** Line groups (or documents) of the train file: in train, held out. */
  groups: { train: number; valid: number };
  notes: string[];
}

/**
 * Reads the train file (and the valid file, if any) of an lm config: builds or reuses the
 * tokenizer on the training text only, then keeps the training text as token ids, tokenized one
 * line group (or document) at a time. Without a valid file a group is held out when
 * isHeldOut(group text, validShare).
 *
 * @example
 * const t = await loadLmText({ ...lmConfig('tiny'), train: 'book.txt' });
 * t.train.length; // training tokens
 */
export async function loadLmText(c: LmTextFields, reuse?: ReuseTokenizers, onProgress?: (p: ReadProgress) => void): Promise<LmText> {
  const trainPath = c.train!;
  const split = { validFile: c.valid !== null, validShare: c.validShare };
  const limit = c.maxTrainExamples ?? Infinity;
  let bad = new BadRows(c.skipBadRows);
  const groups = { train: 0, valid: 0 };

  // Pass 1: the tokenizer learns the training text (or a reused one is checked against it).
  let tokenizer: Tokenizer;
  if (reuse && !reuse.newSymbols) {
    tokenizer = reuse.tokenizer;
  } else {
    const builder = reuse ? reusedTokenizer(reuse.tokenizer, 'text', reuse, trainPath) : tokenizerBuilder(c.tokenizer as TokenizerKind, { vocabSize: c.vocabSize });
    let chars = 0;
    for await (const g of readTextGroups(trainPath, { badRows: bad, onProgress })) {
      if (splitOfRow(g, split) !== 'train' || chars >= limit) continue;
      const text = g.slice(0, limit - chars);
      chars += text.length;
      builder.add(text);
    }
    tokenizer = builder.finish();
    bad = new BadRows(c.skipBadRows); // pass 2 meets the same bad rows again
  }

  // Pass 2: token ids of the training text and of the first evalChars characters of the valid text.
  const train = new TokenBuffer();
  const valid = new TokenBuffer();
  let trainChars = 0;
  let validChars = 0;
  for await (const g of readTextGroups(trainPath, { badRows: bad, onProgress })) {
    if (splitOfRow(g, split) === 'valid') {
      groups.valid++;
      if (validChars < c.evalChars) {
        const text = g.slice(0, c.evalChars - validChars);
        validChars += text.length;
        valid.push(tokenizer.encode(text));
      }
    } else {
      groups.train++;
      if (trainChars < limit) {
        const text = g.slice(0, limit - trainChars);
        trainChars += text.length;
        train.push(tokenizer.encode(text));
      }
    }
  }
  const notes = [bad.summary()].filter((n): n is string => n !== null);
  if (c.valid !== null) {
    const validBad = new BadRows(c.skipBadRows);
    validChars = 0;
    for await (const g of readTextGroups(c.valid, { badRows: validBad, onProgress })) {
      if (validChars >= c.evalChars) break;
      const text = g.slice(0, c.evalChars - validChars);
      validChars += text.length;
      valid.push(tokenizer.encode(text));
    }
    const s = validBad.summary();
    if (s) notes.push(s);
  }
  if (train.length < 2) throw new ArgumentError(`${trainPath}: no training text (${train.length} tokens), expected a file with text in it`);
  if (valid.length < 2) {
    throw new ArgumentError(c.valid !== null
      ? `${c.valid}: no valid text (${valid.length} tokens), expected a file with text in it`
      : `${trainPath}: the hashed hold-out (validShare ${c.validShare}) kept none of its ${groups.train} line groups for validation; pass a valid file (--valid) or a larger validShare`);
  }
  return { tokenizer, train: train.toArray(), valid: valid.toArray(), trainChars, groups, notes };
}

/**
 * Token ids of the valid text of an lm config on your own text (the valid file, or the held-out
 * groups of the train file), or of any `file`, up to `limit` characters.
 *
 * @example
 * const ids = await lmTextIds(config, tok, { limit: 100_000 });
 */
export async function lmTextIds(c: LmTextFields, tok: Tokenizer, o: { file?: string; limit?: number; badRows?: BadRows; onProgress?: (p: ReadProgress) => void }): Promise<Int32Array> {
  const limit = o.limit ?? Infinity;
  const path = o.file ?? c.valid ?? c.train!;
  const heldOut = o.file === undefined && c.valid === null;
  const out = new TokenBuffer();
  let chars = 0;
  for await (const g of readTextGroups(path, { badRows: o.badRows ?? new BadRows(c.skipBadRows), onProgress: o.onProgress })) {
    if (chars >= limit) break;
    if (heldOut && splitOfRow(g, { validFile: false, validShare: c.validShare }) !== 'valid') continue;
    const text = g.slice(0, limit - chars);
    chars += text.length;
    out.push(tok.encode(text));
  }
  return out.toArray();
}
