// The pre-training corpus: documents from several sources, the Brown corpus's tags stripped, a hashed valid hold-out.

import { isHeldOut } from './split.js';

/** One document of a source, with an id that is stable across runs. */
export interface CorpusDocument {
  id: string;
  text: string;
}

/** Documents, characters and whitespace-separated words of one split of one source. */
export interface CorpusSize {
  documents: number;
  characters: number;
  words: number;
}

/** One source of the corpus and its sizes in train and valid. */
export interface CorpusSource {
  name: string;
  train: CorpusSize;
  valid: CorpusSize;
}

/** What {@link buildPretrainingCorpus} and loadPretrainingCorpus return. */
export interface PretrainingCorpus {
  train: string[];
  valid: string[];
  sources: CorpusSource[];
}

/**
 * The sources loadPretrainingCorpus can put together. 'spam-train' is the text (Subject + body,
 * no label) of the SpamAssassin train split: in-domain text for fine-tuning on SpamAssassin, as
 * in domain-adaptive pre-training; its valid and test mails never enter.
 */
export const CORPUS_SOURCES = ['sotu', 'moby-dick', 'brown', 'spam-train'] as const;

/** One of {@link CORPUS_SOURCES}. */
export type CorpusSourceName = (typeof CORPUS_SOURCES)[number];

/** The sources of the corpus when none are named: the three general-text packages. */
export const DEFAULT_CORPUS_SOURCES: readonly CorpusSourceName[] = ['sotu', 'moby-dick', 'brown'];

/** The share of documents held out for valid (masked-token accuracy, perplexity). */
export const CORPUS_VALID_SHARE = 0.02;

/** Tokens that attach to the word before them. */
const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '?', '!', ')', ']', '}', "''", "'"]);
/** Tokens that attach to the word after them. */
const NO_SPACE_AFTER = new Set(['(', '[', '{', '``', '`']);

/**
 * One file of the Brown corpus (form C: `word/tag` tokens, a sentence per line, a tab opening
 * each paragraph) as plain text: tags stripped (after the last `/`), `` and '' as ", no space
 * before closing punctuation or after an opening one, lines of a paragraph joined by spaces,
 * paragraphs by a newline.
 *
 * @example
 * brownToText('\tThe/at jury/nn said/vbd ``/`` no/at ''/'' ./.\n'); // 'The jury said "no".'
 */
export function brownToText(tagged: string): string {
  const paragraphs: string[][] = [];
  for (const line of tagged.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const words = line.trim().split(/\s+/).map((tok) => {
      const at = tok.lastIndexOf('/');
      return at > 0 ? tok.slice(0, at) : tok;
    });
    if (line.startsWith('\t') || paragraphs.length === 0) paragraphs.push([]);
    paragraphs[paragraphs.length - 1]!.push(...words);
  }
  return paragraphs.map(joinWords).join('\n');
}

function joinWords(words: readonly string[]): string {
  let out = '';
  let glue = true;
  for (const w of words) {
    if (!glue && !NO_SPACE_BEFORE.has(w)) out += ' ';
    out += w === '``' || w === "''" ? '"' : w;
    glue = NO_SPACE_AFTER.has(w);
  }
  return out;
}

/** Whitespace-separated words of a text. */
function wordCount(text: string): number {
  let n = 0;
  for (const _ of text.matchAll(/\S+/g)) n++;
  return n;
}

function sizeOf(texts: readonly string[]): CorpusSize {
  return {
    documents: texts.length,
    characters: texts.reduce((s, t) => s + t.length, 0),
    words: texts.reduce((s, t) => s + wordCount(t), 0),
  };
}

/**
 * Puts sources together: a document is held out for valid when
 * `isHeldOut(`${source}:${id}`, share)` (about 2% by default), the same documents on every run;
 * the rest is train, sources in the order given, documents in their order. Sizes per source and
 * split come with it.
 *
 * @example
 * const c = buildPretrainingCorpus([{ name: 'brown', documents: [{ id: 'ca01', text: 'The jury said...' }] }]);
 * c.train.length + c.valid.length; // 1
 */
export function buildPretrainingCorpus(
  sources: readonly { name: string; documents: readonly CorpusDocument[] }[],
  share = CORPUS_VALID_SHARE,
): PretrainingCorpus {
  const out: PretrainingCorpus = { train: [], valid: [], sources: [] };
  for (const { name, documents } of sources) {
    const train: string[] = [];
    const valid: string[] = [];
    for (const d of documents) (isHeldOut(`${name}:${d.id}`, share) ? valid : train).push(d.text);
    out.train.push(...train);
    out.valid.push(...valid);
    out.sources.push({ name, train: sizeOf(train), valid: sizeOf(valid) });
  }
  return out;
}
