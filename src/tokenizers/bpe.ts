// ByteLevelBPE: GPT-2 style byte-level byte-pair encoding — train, encode, decode, tokenizer.json.

import { ArgumentError } from '../core/errors.js';
import { learnMerges, mergePair } from './bpe-train.js';
import { BYTE_TO_CHAR, GPT2_PATTERN_SOURCE, fromByteChars, splitIsolated, toByteChars } from './byte-level.js';
import { compileSplitPattern } from './split-pattern.js';
import type { SplitText } from './split-pattern.js';
import { BaseTokenizer, WordCache, specialTokenList, type SpecialTokens, type VocabSpec } from './tokenizer.js';

/** Options of {@link ByteLevelBPE.train}. */
export interface ByteLevelBPETrainOptions {
  /** Final vocabulary size, special tokens and the 256 byte tokens included. */
  vocabSize: number;
  /** Stop merging when the best pair occurs fewer times than this. Default 2. */
  minFrequency?: number;
  /** Default `<pad>`, `<s>`, `</s>`, `<unk>` at ids 0..3. */
  specialTokens?: Partial<SpecialTokens>;
}

/** What {@link ByteLevelBPE.trainer} returns: feed it texts, then learn the merges once. */
export interface ByteLevelBPETrainer {
  /** Counts the words of one more text. */
  add(text: string): void;
  /** Learns the merges from every text added so far. */
  finish(): ByteLevelBPE;
}

/** A full byte-level BPE layout: vocabulary, merges and pre-tokenisation. */
export interface ByteLevelBPESpec extends VocabSpec {
  /** Merges in rank order, each a pair of tokens whose concatenation is in the vocabulary. */
  merges: readonly (readonly [string, string])[];
  /** Regex that cuts text into words: GPT-2's by default, null for none; any other runs on a linear-time engine (RE2 syntax). */
  pattern?: string | null;
  /** Put a space before text that does not start with one (Hugging Face's add_prefix_space). */
  addPrefixSpace?: boolean;
  /** Take a whole word straight from the vocabulary before merging (Hugging Face's ignore_merges). */
  ignoreMerges?: boolean;
}

const SHIFT = 2 ** 26;
const utf8 = new TextEncoder();

/**
 * Byte-level BPE as in GPT-2: text is cut into words by GPT-2's regex, each word's UTF-8 bytes
 * are written in the byte-level alphabet, and learned merges join them, lowest rank first.
 * Every byte has a token, so `decode(encode(s)) === s` for any well-formed string.
 *
 * @example
 * ```ts
 * const bpe = ByteLevelBPE.train(['low lower lowest'], { vocabSize: 300 });
 * const ids = bpe.encode('lowest 🙂');
 * bpe.decode(ids); // 'lowest 🙂'
 * ```
 */
export class ByteLevelBPE extends BaseTokenizer {
  readonly merges: readonly (readonly [string, string])[];
  readonly pattern: string | null;
  readonly addPrefixSpace: boolean;
  readonly ignoreMerges: boolean;
  private readonly splitter: SplitText | null;
  private readonly ranks = new Map<number, { rank: number; id: number }>();
  private readonly byteIds: Int32Array;
  private readonly cache = new WordCache((w) => this.encodeWord(w));

  /**
   * Learns a vocabulary from texts. Ids: the special tokens, then the 256 bytes in byte order,
   * then one token per merge.
   *
   * @example
   * ```ts
   * const bpe = ByteLevelBPE.train(texts, { vocabSize: 8000, minFrequency: 2 });
   * ```
   */
  static train(texts: Iterable<string>, opts: ByteLevelBPETrainOptions): ByteLevelBPE {
    const trainer = ByteLevelBPE.trainer(opts);
    for (const text of texts) trainer.add(text);
    return trainer.finish();
  }

  /**
   * {@link ByteLevelBPE.train} one text at a time, for texts read as a stream: `add` counts a
   * text's words (only the counts are kept), `finish` learns the merges. The same texts give the
   * same tokenizer as `train`.
   *
   * @example
   * ```ts
   * const t = ByteLevelBPE.trainer({ vocabSize: 4000 });
   * for await (const line of readLines('book.txt')) t.add(line + '\n');
   * const bpe = t.finish();
   * ```
   */
  static trainer(opts: ByteLevelBPETrainOptions): ByteLevelBPETrainer {
    const { roles, list } = specialTokenList(opts.specialTokens);
    const minFrequency = opts.minFrequency ?? 2;
    if (!Number.isInteger(opts.vocabSize) || opts.vocabSize < list.length + 256) {
      throw new ArgumentError(
        `vocabSize ${opts.vocabSize}: expected an integer >= ${list.length + 256} (special tokens + 256 bytes)`,
      );
    }
    if (!(minFrequency >= 1)) {
      throw new ArgumentError(`minFrequency ${minFrequency}: expected a number >= 1`);
    }
    for (const s of list) {
      if (BYTE_TO_CHAR.includes(s)) {
        throw new ArgumentError(`special token ${JSON.stringify(s)}: expected a string that is not a byte token`);
      }
    }
    const special = new RegExp(list.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gu');
    const pattern = new RegExp(GPT2_PATTERN_SOURCE, 'gu');
    const pieces = new Map<string, number>();
    const add = (text: string): void => {
      for (const part of text.split(special)) {
        for (const p of splitIsolated(part, pattern)) pieces.set(p, (pieces.get(p) ?? 0) + 1);
      }
    };
    const finish = (): ByteLevelBPE => {
      const words = new Map<string, number>();
      for (const [p, f] of pieces) {
        const w = toByteChars(p);
        words.set(w, (words.get(w) ?? 0) + f);
      }
      const { tokens, merges } = learnMerges(words, [...list, ...BYTE_TO_CHAR], opts.vocabSize, minFrequency);
      const id = (s: string) => list.indexOf(s);
      return new ByteLevelBPE({
        tokens,
        merges,
        padId: id(roles.pad),
        bosId: id(roles.bos),
        eosId: id(roles.eos),
        unkId: id(roles.unk),
        specialIds: list.map((_, i) => i),
      });
    };
    return { add, finish };
  }

  /** Builds from a full layout (used by tokenizerFromJSON); throws ArgumentError on a bad merge. */
  constructor(spec: ByteLevelBPESpec) {
    super(spec);
    this.merges = spec.merges.map(([a, b]) => [a, b] as const);
    this.pattern = spec.pattern === undefined ? GPT2_PATTERN_SOURCE : spec.pattern;
    this.addPrefixSpace = spec.addPrefixSpace ?? false;
    this.ignoreMerges = spec.ignoreMerges ?? false;
    if (this.pattern !== null) {
      this.splitter = compileSplitPattern(this.pattern);
    } else {
      this.splitter = null;
    }
    this.byteIds = Int32Array.from(BYTE_TO_CHAR, (c) => this.ids.get(c) ?? this.unkId);
    this.merges.forEach(([a, b], rank) => {
      const ia = this.ids.get(a);
      const ib = this.ids.get(b);
      const im = this.ids.get(a + b);
      if (ia === undefined || ib === undefined || im === undefined) {
        const missing = ia === undefined ? a : ib === undefined ? b : a + b;
        throw new ArgumentError(
          `merge ${rank} ${JSON.stringify([a, b])}: token ${JSON.stringify(missing)} is not in the vocabulary`,
        );
      }
      const k = ia * SHIFT + ib;
      if (!this.ranks.has(k)) this.ranks.set(k, { rank, id: im });
    });
  }

  protected encodeText(text: string, out: number[]): void {
    if (this.addPrefixSpace && !text.startsWith(' ')) text = ' ' + text;
    const words = this.splitter === null ? [text] : this.splitter(text);
    for (const w of words) for (const id of this.cache.ids(w)) out.push(id);
  }

  protected decodeTokens(tokens: readonly string[]): string {
    return fromByteChars(tokens);
  }

  /** One word to ids: bytes, then the merge of lowest rank, again and again (GPT-2's loop). */
  private encodeWord(word: string): number[] {
    if (this.ignoreMerges) {
      const whole = this.ids.get(toByteChars(word));
      if (whole !== undefined) return [whole];
    }
    let syms: number[] = [];
    for (const b of utf8.encode(word)) syms.push(this.byteIds[b]!);
    for (;;) {
      let best: { rank: number; id: number } | undefined;
      let at = -1;
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = this.ranks.get(syms[i]! * SHIFT + syms[i + 1]!);
        if (r !== undefined && (best === undefined || r.rank < best.rank)) {
          best = r;
          at = i;
        }
      }
      if (best === undefined) return syms;
      syms = mergePair(syms, syms[at]!, syms[at + 1]!, best.id);
    }
  }

  /** tokenizer.json as Hugging Face writes it for GPT-2: ByteLevel pre-tokenizer and decoder, BPE model. */
  toJSON(): object {
    const vocab = this.hfVocab();
    const byteLevel = (useRegex: boolean) => ({
      type: 'ByteLevel',
      add_prefix_space: this.addPrefixSpace,
      trim_offsets: true,
      use_regex: useRegex,
    });
    const preTokenizer =
      this.pattern === GPT2_PATTERN_SOURCE
        ? byteLevel(true)
        : this.pattern === null
          ? byteLevel(false)
          : {
              type: 'Sequence',
              pretokenizers: [
                { type: 'Split', pattern: { Regex: this.pattern }, behavior: 'Isolated', invert: false },
                byteLevel(false),
              ],
            };
    const model: Record<string, unknown> = {
      type: 'BPE',
      dropout: null,
      unk_token: this.tokens[this.unkId],
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
    };
    if (this.ignoreMerges) model['ignore_merges'] = true;
    model['vocab'] = vocab;
    // "a b" strings, which every tokenizers version reads, unless a token holds a space (byte-level
    // tokens never do; tokens read from another file might): then [a, b] pairs, as tokenizers >= 0.20.
    const spaced = this.merges.some(([a, b]) => a.includes(' ') || b.includes(' '));
    model['merges'] = this.merges.map(([a, b]) => (spaced ? [a, b] : `${a} ${b}`));
    return {
      ...this.hfHeader(),
      normalizer: null,
      pre_tokenizer: preTokenizer,
      post_processor: this.hfPostProcessor(),
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model,
    };
  }
}
