// SpamAssassin as a classification task: mail → "Subject\n\nbody", de-duplication, stratified hash split, label subsets.

import PostalMime from 'postal-mime';
import { convert as htmlToText } from 'html-to-text';
import { ArgumentError } from '../core/errors.js';
import { fnv1a32, type Splits } from './split.js';

/** One text with its label (for SpamAssassin: 'ham' or 'spam'); `id` is stable across runs. */
export interface LabeledText {
  id: string;
  text: string;
  label: string;
}

/** One raw mail of the corpus: its folder ('easy-ham-1', 'spam-2', …), file id and RFC 822 text. */
export interface RawMail {
  group: string;
  id: string;
  text: string;
}

/** Shares of each label that go to train and valid; the rest is test. */
export interface StratifiedShares {
  train: number;
  valid: number;
}

const HTML_OPTIONS = {
  wordwrap: false as const,
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
  ],
};

/**
 * One mail as the text a classifier sees: the decoded Subject, a blank line, and the body —
 * quoted-printable and base64 decoded by postal-mime, HTML turned to its visible text by
 * html-to-text (links without their address, no images). The HTML part is used when there is
 * one, else the plain text (turned to text too when it is HTML sent without its Content-Type). No
 * other header is kept: relays and list names give the label away; list tags such as `[ILUG]` leave
 * the subject for the same reason.
 * An mbox `From ` line at the top is dropped first.
 *
 * @example
 * await mailToText('Subject: =?utf-8?q?Caf=C3=A9?=\nContent-Type: text/html\n\n<p>Hi&amp;bye</p>');
 * // 'Café\n\nHi&bye'
 */
export async function mailToText(raw: string): Promise<string> {
  const mail = await PostalMime.parse(raw.replace(/^From [^\n]*\n/, ''));
  const subject = withoutListTags(mail.subject ?? '');
  const text = mail.text ?? '';
  // A body sent as HTML without a Content-Type header arrives as "text": its tags would be a cue of their own.
  const body = mail.html ? htmlToText(mail.html, HTML_OPTIONS) : looksLikeHtml(text) ? htmlToText(text, HTML_OPTIONS) : text;
  return `${subject}\n\n${tidy(body)}`;
}

/**
 * The subject without bracketed tags of one word (`[ILUG]`, `[SAtalk]`, `[Spambayes]`): mailing lists
 * add them, so they name the list a mail came through, as the dropped headers would.
 *
 * @example
 * withoutListTags('Re: [ILUG] [SAtalk] spam filters'); // 'Re: spam filters'
 */
export function withoutListTags(subject: string): string {
  return subject.replace(/\[[^\]\s]{1,40}\]\s*/gu, '').replace(/\s+/gu, ' ').trim();
}

/** True for text that opens (after blank space) with an HTML tag, doctype or comment. */
function looksLikeHtml(text: string): boolean {
  return /^\s*<(!doctype|html|head|body|table|div|p|font|center|meta|title|!--)\b/iu.test(text);
}

/** Trailing spaces off each line, runs of blank lines to one, ends trimmed. */
function tidy(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\u00a0]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * The key two mails are duplicates by: the body (what follows the first blank line), lowercased,
 * with every run of whitespace one space. The subject is left out ("Re:" and list tags vary).
 *
 * @example
 * duplicateKey('Hi\n\nBuy  NOW\n'); // 'buy now'
 */
export function duplicateKey(text: string): string {
  const at = text.indexOf('\n\n');
  const body = at < 0 ? '' : text.slice(at + 2);
  return body.toLowerCase().replace(/\s+/gu, ' ').trim();
}

/**
 * Keeps the first of each group of texts whose {@link duplicateKey} is equal (in the order given),
 * whatever their labels. Texts with an empty body are kept apart only by their subject.
 *
 * @example
 * dedupeByBody([{ id: 'a', text: 'x\n\nsame', label: 'ham' }, { id: 'b', text: 'y\n\nSame', label: 'spam' }]).length; // 1
 */
export function dedupeByBody<T extends { text: string }>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const item of items) {
    const body = duplicateKey(item.text);
    const key = body === '' ? `\u0000${item.text.trim().toLowerCase()}` : body;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(item);
  }
  return out;
}

/** Orders items by `fnv1a32(prefix + id)`, then by id, so ties never depend on input order. */
function byHash<T extends { id: string }>(items: readonly T[], prefix: string): T[] {
  const keyed = items.map((item) => ({ item, h: fnv1a32(prefix + item.id) }));
  keyed.sort((a, b) => a.h - b.h || (a.item.id < b.item.id ? -1 : a.item.id > b.item.id ? 1 : 0));
  return keyed.map((k) => k.item);
}

/** Groups by label, labels in sorted order. */
function byLabel<T extends { label: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    let g = groups.get(item.label);
    if (g === undefined) groups.set(item.label, (g = []));
    g.push(item);
  }
  return new Map([...groups].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

/**
 * A stratified split by hash: within each label, items are ordered by `fnv1a32(id)` (then id);
 * the first `round(train × n)` go to train, the next `round(valid × n)` to valid, the rest to
 * test. Each split keeps the input order. Default shares 80/10/10.
 *
 * @example
 * const s = stratifiedSplit(examples); // s.train has 80% of the ham and 80% of the spam
 */
export function stratifiedSplit<T extends { id: string; label: string }>(items: readonly T[], shares: StratifiedShares = { train: 0.8, valid: 0.1 }): Splits<T> {
  const { train, valid } = shares;
  if (!(train >= 0 && valid >= 0 && train + valid <= 1)) {
    throw new ArgumentError(`stratifiedSplit: shares train=${train}, valid=${valid}: expected non-negative numbers with train + valid <= 1`);
  }
  const where = new Map<T, keyof Splits<T>>();
  for (const group of byLabel(items).values()) {
    const ordered = byHash(group, '');
    const nTrain = Math.round(train * ordered.length);
    const nValid = Math.round(valid * ordered.length);
    ordered.forEach((item, i) => where.set(item, i < nTrain ? 'train' : i < nTrain + nValid ? 'valid' : 'test'));
  }
  const out: Splits<T> = { train: [], valid: [], test: [] };
  for (const item of items) out[where.get(item)!].push(item);
  return out;
}

/**
 * The labelled subset a run at `fraction` of the labels trains on, for `seed`: within each label,
 * examples are ordered by `fnv1a32(`${seed}:${id}`)` (then id) and the first
 * `ceil(fraction × n_label)` kept, in their input order. Larger fractions hold the smaller ones
 * (same seed); scripts/spam_baseline.py applies the same rule.
 *
 * @example
 * labelSubset(split.train, 0.01, 0); // 1% of the ham and 1% of the spam, always the same ones
 */
export function labelSubset<T extends { id: string; label: string }>(examples: readonly T[], fraction: number, seed: number): T[] {
  if (!(fraction > 0 && fraction <= 1)) throw new ArgumentError(`labelSubset: fraction is ${fraction}, expected a number in (0, 1]`);
  if (!Number.isInteger(seed)) throw new ArgumentError(`labelSubset: seed is ${seed}, expected an integer`);
  const keep = new Set<T>();
  for (const group of byLabel(examples).values()) {
    const ordered = byHash(group, `${seed}:`);
    for (const item of ordered.slice(0, Math.ceil(fraction * ordered.length))) keep.add(item);
  }
  return examples.filter((e) => keep.has(e));
}

/** 'spam' for the spam-* folders, 'ham' for the rest. */
export function spamLabelOf(group: string): 'ham' | 'spam' {
  return group.startsWith('spam') ? 'spam' : 'ham';
}

/** Counts of one preparation: raw mails per folder, after de-duplication, and per split and label. */
export interface SpamCounts {
  raw: Record<string, number>;
  deduped: Record<string, number>;
  splits: Record<keyof Splits<LabeledText>, Record<string, number>>;
}

/**
 * The whole preparation of SpamAssassin from its raw mails: each to "Subject\n\nbody"
 * ({@link mailToText}), labelled by folder, de-duplicated by body ({@link dedupeByBody}, first in
 * folder then id order kept), split 80/10/10 per label ({@link stratifiedSplit}). Ids are
 * `folder/file`.
 *
 * @example
 * const { splits, counts } = await prepareSpamAssassin(mails);
 */
export async function prepareSpamAssassin(mails: readonly RawMail[]): Promise<{ splits: Splits<LabeledText>; counts: SpamCounts }> {
  const sorted = [...mails].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const raw: Record<string, number> = {};
  const texts: LabeledText[] = [];
  for (const m of sorted) {
    raw[m.group] = (raw[m.group] ?? 0) + 1;
    texts.push({ id: `${m.group}/${m.id}`, text: await mailToText(m.text), label: spamLabelOf(m.group) });
  }
  const kept = dedupeByBody(texts);
  const splits = stratifiedSplit(kept);
  const tally = (xs: readonly LabeledText[]) => {
    const c: Record<string, number> = {};
    for (const x of xs) c[x.label] = (c[x.label] ?? 0) + 1;
    return c;
  };
  return { splits, counts: { raw, deduped: tally(kept), splits: { train: tally(splits.train), valid: tally(splits.valid), test: tally(splits.test) } } };
}
