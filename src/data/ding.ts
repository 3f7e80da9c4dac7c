// Ding English -> German pairs (Debian package trans-de-en), cleaned and split by dictionary line.

import { ArgumentError } from '../core/errors.js';
import { readTextFile } from './load.js';
import { Splits, fnv1a32 } from './split.js';

/** Where Debian's `trans-de-en` package puts the Ding dictionary. */
export const DING_PATH = '/usr/share/trans/de-en';

/** A translation pair; for Ding, `src` is English and `tgt` German. */
export interface TranslationPair {
  src: string;
  tgt: string;
}

/** The usable pairs of one dictionary line. */
export interface DingLine {
  /** 0-based line number in the file. */
  line: number;
  /** The line as it is in the file: its FNV-1a hash decides the split. */
  raw: string;
  /** Sentence-like pairs (see {@link isSentencePair}). */
  sentences: TranslationPair[];
  /** Multi-word pairs that are not sentences (see {@link isPhrasePair}). */
  phrases: TranslationPair[];
}

// Innermost annotation groups: {m} gender/part of speech, [coll.] register/field,
// <Aalmolch> alternative spellings, (zoologische Familie) glosses.
const ANNOTATION = /\{[^{}]*\}|\[[^[\]]*\]|<[^<>]*>|\([^()]*\)/g;

/**
 * Removes Ding's annotations from one side of an entry: every `{...}`, `[...]`, `<...>` and
 * `(...)` group (nested ones too), then collapses whitespace and drops spaces before
 * punctuation. Separators `|` and `;` are left alone.
 *
 * @example
 * cleanDingText('Aal {m} (auf der Speisekarte) [cook.]'); // 'Aal'
 */
export function cleanDingText(text: string): string {
  let prev: string;
  let s = text;
  do {
    prev = s;
    s = s.replace(ANNOTATION, ' ');
  } while (s !== prev);
  return s.replace(/\s+/g, ' ').replace(/ ([,.;:!?])/g, '$1').trim();
}

function words(s: string): number {
  return s === '' ? 0 : s.split(' ').length;
}

/** A pair is sentence-like when the English side has at least 4 words and both sides end with `.`, `!` or `?`. */
export function isSentencePair(p: TranslationPair): boolean {
  return words(p.src) >= 4 && /[.!?]$/.test(p.src) && /[.!?]$/.test(p.tgt);
}

/** A pair is a phrase when it is not sentence-like and both sides have at least 2 words. */
export function isPhrasePair(p: TranslationPair): boolean {
  return !isSentencePair(p) && words(p.src) >= 2 && words(p.tgt) >= 2;
}

/**
 * The pairs of one `German :: English` line. Sub-entries separated by `|` are aligned by
 * position (a line whose two sides have different numbers of sub-entries gives nothing); within
 * a sub-entry, `;` separates synonyms and only the first synonym of each side is kept. Returns
 * null for comments and malformed lines.
 *
 * @example
 * parseDingLine('Aalsuppe {f} [cook.] | Aalsuppen {pl} :: eel soup | eel soups');
 * // { sentences: [], phrases: [] }: single German words are neither sentences nor phrases
 */
export function parseDingLine(raw: string): { sentences: TranslationPair[]; phrases: TranslationPair[] } | null {
  if (raw.startsWith('#')) return null;
  const sides = raw.split(' :: ');
  if (sides.length !== 2) return null;
  const de = cleanDingText(sides[0]).split('|');
  const en = cleanDingText(sides[1]).split('|');
  if (de.length !== en.length) return null;
  const sentences: TranslationPair[] = [];
  const phrases: TranslationPair[] = [];
  for (let i = 0; i < de.length; i++) {
    const pair = { src: firstSynonym(en[i]), tgt: firstSynonym(de[i]) };
    if (pair.src === '' || pair.tgt === '') continue;
    if (isSentencePair(pair)) sentences.push(pair);
    else if (isPhrasePair(pair)) phrases.push(pair);
  }
  return { sentences, phrases };
}

function firstSynonym(s: string): string {
  return s.split(';')[0].trim();
}

/** Parses the whole Ding file into the lines that give at least one sentence or phrase pair. */
export function parseDing(text: string): DingLine[] {
  const out: DingLine[] = [];
  const lines = text.split('\n');
  for (let line = 0; line < lines.length; line++) {
    const raw = lines[line];
    const parsed = parseDingLine(raw);
    if (parsed && (parsed.sentences.length > 0 || parsed.phrases.length > 0)) out.push({ line, raw, ...parsed });
  }
  return out;
}

/** Options of {@link splitDing}. */
export interface DingSplitOptions {
  /** Sentence pairs in each of valid and test (default 1000). */
  heldOut?: number;
}

/**
 * Splits Ding by dictionary line. Lines with sentence pairs are visited in order of
 * (fnv1a32(raw line), line number); each is taken whole into valid until valid holds exactly
 * `heldOut` sentence pairs (a line that would overshoot, or whose English repeats one already
 * held out, is passed over), then likewise into test. Valid and test hold only sentence pairs;
 * the phrase pairs of their lines are dropped. Train gets the sentence and phrase pairs of every
 * other line, minus any pair whose English or German side also occurs in valid or test. Each
 * split keeps file order.
 */
export function splitDing(lines: readonly DingLine[], opts: DingSplitOptions = {}): Splits<TranslationPair> {
  const heldOut = opts.heldOut ?? 1000;
  if (!Number.isInteger(heldOut) || heldOut < 0) throw new ArgumentError(`splitDing: heldOut must be an integer >= 0, got ${heldOut}`);
  const order = lines
    .filter((l) => l.sentences.length > 0)
    .map((l) => ({ l, h: fnv1a32(l.raw) }))
    .sort((a, b) => a.h - b.h || a.l.line - b.l.line);
  const seen = new Set<string>();
  const picked = [new Set<DingLine>(), new Set<DingLine>()];
  let k = 0;
  for (const which of [0, 1]) {
    let count = 0;
    for (; k < order.length && count < heldOut; k++) {
      const l = order[k].l;
      if (count + l.sentences.length > heldOut) continue;
      if (l.sentences.some((p) => seen.has(p.src))) continue;
      if (new Set(l.sentences.map((p) => p.src)).size !== l.sentences.length) continue;
      for (const p of l.sentences) seen.add(p.src);
      picked[which].add(l);
      count += l.sentences.length;
    }
    if (count < heldOut) throw new ArgumentError(`splitDing: only ${count} sentence pairs available for ${which === 0 ? 'valid' : 'test'}, expected ${heldOut}`);
  }
  const heldSides = new Set<string>();
  const out: Splits<TranslationPair> = { train: [], valid: [], test: [] };
  for (const l of lines) {
    const dest = picked[0].has(l) ? out.valid : picked[1].has(l) ? out.test : null;
    if (dest) {
      dest.push(...l.sentences);
      for (const p of l.sentences) heldSides.add(p.src).add(p.tgt);
    }
  }
  for (const l of lines) {
    if (picked[0].has(l) || picked[1].has(l)) continue;
    for (const p of [...l.sentences, ...l.phrases]) {
      if (!heldSides.has(p.src) && !heldSides.has(p.tgt)) out.train.push(p);
    }
  }
  return out;
}

/** What to do when the Ding file is missing: only fixes that exist (the package, the translate config's field, the seq2seq task). */
const DING_FIXES = 'install it with `apt-get install trans-de-en` (Debian/Ubuntu), set "dingPath" in a translate config.json to a Ding-format file, '
  + 'or train on your own pairs with `qkv train seq2seq --train pairs.tsv`';

/**
 * Loads the Ding dictionary (English -> German) and splits it by line; see {@link splitDing}.
 * Throws a `DatasetMissingError` when the file is missing (install it with
 * `apt-get install trans-de-en`, or point the translate config's `dingPath` at a Ding-format file).
 *
 * @example
 * const { train, valid, test } = await loadDing();
 * valid.length; // 1000
 * valid[0];     // { src: 'An English sentence.', tgt: 'Ein deutscher Satz.' }
 */
export async function loadDing(path: string = DING_PATH, opts: DingSplitOptions = {}): Promise<Splits<TranslationPair>> {
  const text = await readTextFile(path, DING_FIXES);
  return splitDing(parseDing(text), opts);
}
