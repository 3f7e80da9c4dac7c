// The Tokenizer interface, special tokens, and the vocabulary handling every tokenizer shares.

import { ArgumentError } from '../core/errors.js';

/** Options of {@link Tokenizer.encode}. */
export interface EncodeOptions {
  /** Wrap the ids in the tokenizer's template (for ours: `<s>` … `</s>`). Default false. */
  addSpecial?: boolean;
}

/** Options of {@link Tokenizer.decode}. */
export interface DecodeOptions {
  /** Leave special tokens (`<pad>`, `<s>`, `</s>`, `<unk>`, extras) out of the text. Default false. */
  skipSpecial?: boolean;
}

/**
 * What every qkv tokenizer does: text to ids, ids to text, and a Hugging Face `tokenizer.json`.
 *
 * Special tokens written in the text itself (such as a literal `</s>`) are read as the special
 * token, as Hugging Face `tokenizers` does.
 *
 * @example
 * ```ts
 * const tok: Tokenizer = CharTokenizer.fromCorpus(['hello']);
 * tok.decode(tok.encode('hello')); // 'hello'
 * ```
 */
export interface Tokenizer {
  readonly vocabSize: number;
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly unkId: number;
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: readonly number[], opts?: DecodeOptions): string;
  idToToken(id: number): string;
  tokenToId(token: string): number | undefined;
  /** The Hugging Face `tokenizer.json` object (pass it to `JSON.stringify`). */
  toJSON(): object;
}

/** The strings of the special tokens. Roles that share a string share one id. */
export interface SpecialTokens {
  pad: string;
  bos: string;
  eos: string;
  unk: string;
  /** More special tokens (`<mask>`, `<sep>`…), given ids right after the four roles. */
  extra?: readonly string[];
}

/** `<pad>`, `<s>`, `</s>`, `<unk>`: ids 0, 1, 2, 3 in every tokenizer we build. */
export const DEFAULT_SPECIAL_TOKENS: Readonly<SpecialTokens> = Object.freeze({
  pad: '<pad>',
  bos: '<s>',
  eos: '</s>',
  unk: '<unk>',
});

/** Fills in the defaults and lists the special strings in id order, without repeats. */
export function specialTokenList(specials: Partial<SpecialTokens> = {}): {
  roles: SpecialTokens;
  list: string[];
} {
  const roles: SpecialTokens = { ...DEFAULT_SPECIAL_TOKENS, ...specials };
  const list: string[] = [];
  for (const s of [roles.pad, roles.bos, roles.eos, roles.unk, ...(roles.extra ?? [])]) {
    if (typeof s !== 'string' || s.length === 0) {
      throw new ArgumentError(`special token ${JSON.stringify(s)}: expected a non-empty string`);
    }
    if (!list.includes(s)) list.push(s);
  }
  return { roles, list };
}

/** What `addSpecial` wraps around the ids: Hugging Face's TemplateProcessing for one sequence. */
export interface Template {
  prefix: readonly number[];
  suffix: readonly number[];
}

/** How a tokenizer's vocabulary, special ids and template are laid out. */
/**
 * The vocabulary layout of a tokenizer over a fixed alphabet: the special tokens first, then each
 * distinct item in the order given. `check` throws for an item the tokenizer cannot hold.
 *
 * @example
 * vocabSpecFrom(['a', 'b', 'a'], {}, () => {}).tokens; // ['<pad>', '<s>', '</s>', '<unk>', 'a', 'b']
 */
export function vocabSpecFrom(items: Iterable<string>, specials: Partial<SpecialTokens> | undefined, check: (item: string) => void): VocabSpec {
  const { roles, list } = specialTokenList(specials);
  const tokens = [...list];
  const have = new Set(tokens);
  for (const item of items) {
    check(item);
    if (!have.has(item)) {
      have.add(item);
      tokens.push(item);
    }
  }
  const id = (s: string) => list.indexOf(s);
  return {
    tokens,
    padId: id(roles.pad),
    bosId: id(roles.bos),
    eosId: id(roles.eos),
    unkId: id(roles.unk),
    specialIds: list.map((_, i) => i),
  };
}

export interface VocabSpec {
  /** `tokens[id]` is the token of `id`. */
  tokens: readonly string[];
  padId: number;
  bosId: number;
  eosId: number;
  unkId: number;
  /** Ids of all special tokens (the four roles and any extras): cut out of text, dropped by skipSpecial. */
  specialIds: readonly number[];
  /** Ids of added tokens that are not special: cut out of text, kept by skipSpecial. */
  addedIds?: readonly number[];
  /** Default: `<s>` before and `</s>` after. */
  template?: Template;
}

/**
 * The shared half of every tokenizer: vocabulary lookups, special tokens in the text, the
 * `addSpecial` template and `skipSpecial`. Subclasses encode plain text and decode token strings.
 */
/**
 * A word → ids memo for a tokenizer's per-word encoding (BPE merges, WordPiece's longest match),
 * emptied whenever it holds `limit` words, so memory stays bounded on any text.
 *
 * @example
 * const cache = new WordCache((w) => [w.length]);
 * cache.ids('hello'); // [5], computed once, then remembered
 */
export class WordCache {
  private readonly map = new Map<string, number[]>();

  constructor(private readonly encode: (word: string) => number[], private readonly limit = 100_000) {}

  /** The ids of `word`: remembered, or encoded now and remembered. */
  ids(word: string): number[] {
    let ids = this.map.get(word);
    if (ids === undefined) {
      ids = this.encode(word);
      if (this.map.size >= this.limit) this.map.clear();
      this.map.set(word, ids);
    }
    return ids;
  }
}

export abstract class BaseTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly unkId: number;
  readonly template: Template;
  protected readonly tokens: readonly string[];
  protected readonly ids: ReadonlyMap<string, number>;
  protected readonly specialIds: ReadonlySet<number>;
  protected readonly addedIds: ReadonlySet<number>;
  private readonly specialSplitter: RegExp | null;

  protected constructor(spec: VocabSpec) {
    this.tokens = spec.tokens.slice();
    const ids = new Map<string, number>();
    this.tokens.forEach((t, i) => {
      if (!ids.has(t)) ids.set(t, i);
    });
    this.ids = ids;
    this.vocabSize = this.tokens.length;
    for (const [name, id] of [
      ['padId', spec.padId],
      ['bosId', spec.bosId],
      ['eosId', spec.eosId],
      ['unkId', spec.unkId],
    ] as const) {
      this.checkId(id, name);
    }
    this.padId = spec.padId;
    this.bosId = spec.bosId;
    this.eosId = spec.eosId;
    this.unkId = spec.unkId;
    spec.specialIds.forEach((id) => this.checkId(id, 'special id'));
    this.specialIds = new Set(spec.specialIds);
    (spec.addedIds ?? []).forEach((id) => this.checkId(id, 'added id'));
    this.addedIds = new Set(spec.addedIds ?? []);
    this.template = spec.template ?? { prefix: [spec.bosId], suffix: [spec.eosId] };
    [...this.template.prefix, ...this.template.suffix].forEach((id) => this.checkId(id, 'template id'));
    // Longest first, so that `<s>` does not cut `<s>x` short when both are special.
    const specials = [...new Set([...this.specialIds, ...this.addedIds])]
      .map((id) => this.tokens[id]!)
      .filter((t) => t.length > 0);
    specials.sort((a, b) => b.length - a.length);
    this.specialSplitter =
      specials.length === 0
        ? null
        : new RegExp(specials.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gu');
  }

  /**
   * Text to ids. Special tokens written in the text become their ids; the rest goes through the
   * subclass's model. With `addSpecial`, the template's ids go around the result.
   */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') {
      throw new ArgumentError(`encode: text is ${typeof text}, expected a string`);
    }
    const out: number[] = opts.addSpecial ? [...this.template.prefix] : [];
    let last = 0;
    if (this.specialSplitter !== null) {
      for (const m of text.matchAll(this.specialSplitter)) {
        if (m.index! > last) this.encodeText(text.slice(last, m.index), out);
        out.push(this.ids.get(m[0])!);
        last = m.index! + m[0].length;
      }
    }
    if (last < text.length) this.encodeText(text.slice(last), out);
    if (opts.addSpecial) out.push(...this.template.suffix);
    return out;
  }

  /** Ids to text; `skipSpecial` leaves the special tokens out. */
  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const toks: string[] = [];
    for (const id of ids) {
      this.checkId(id, 'decode: id');
      if (opts.skipSpecial && this.specialIds.has(id)) continue;
      toks.push(this.tokens[id]!);
    }
    return this.decodeTokens(toks);
  }

  /** The token string of `id`; throws ArgumentError outside `[0, vocabSize)`. */
  idToToken(id: number): string {
    this.checkId(id, 'idToToken: id');
    return this.tokens[id]!;
  }

  /** The id of a token string, or undefined when it is not in the vocabulary. */
  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** True when `id` is one of the special tokens. */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  /**
   * This tokenizer's layout with `items` appended after its last token (those it already has are
   * left out): every existing id keeps its token, special ids and template included.
   */
  protected extendedSpec(items: Iterable<string>): VocabSpec {
    const tokens = [...this.tokens];
    const have = new Set(tokens);
    for (const item of items) {
      if (!have.has(item)) {
        have.add(item);
        tokens.push(item);
      }
    }
    return {
      tokens, padId: this.padId, bosId: this.bosId, eosId: this.eosId, unkId: this.unkId,
      specialIds: [...this.specialIds], addedIds: [...this.addedIds], template: this.template,
    };
  }

  abstract toJSON(): object;

  /** Encodes text that holds no special token, appending ids to `out`. */
  protected abstract encodeText(text: string, out: number[]): void;

  /** Joins token strings back into text. */
  protected abstract decodeTokens(tokens: readonly string[]): string;

  /** The `added_tokens` list of tokenizer.json: the special tokens and any other added tokens. */
  protected hfAddedTokens(): object[] {
    return [...new Set([...this.specialIds, ...this.addedIds])]
      .sort((a, b) => a - b)
      .map((id) => ({
        id,
        content: this.tokens[id],
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: this.specialIds.has(id),
      }));
  }

  /** The `post_processor` of tokenizer.json: what `addSpecial` does, as a TemplateProcessing. */
  protected hfPostProcessor(): object {
    const piece = (id: number, typeId: number) => ({ SpecialToken: { id: this.tokens[id], type_id: typeId } });
    const { prefix, suffix } = this.template;
    const single = [...prefix.map((id) => piece(id, 0)), { Sequence: { id: 'A', type_id: 0 } }, ...suffix.map((id) => piece(id, 0))];
    const pair = [...single, { Sequence: { id: 'B', type_id: 1 } }, ...suffix.map((id) => piece(id, 1))];
    const specialTokens: Record<string, object> = {};
    for (const id of [...prefix, ...suffix]) {
      const t = this.tokens[id]!;
      specialTokens[t] = { id: t, ids: [id], tokens: [t] };
    }
    return { type: 'TemplateProcessing', single, pair, special_tokens: specialTokens };
  }

  /** The model's `vocab` object, token → id. Object.fromEntries makes even `__proto__` an own key. */
  protected hfVocab(): Record<string, number> {
    return Object.fromEntries([...this.ids].sort((a, b) => a[1] - b[1]));
  }

  /** The fields of tokenizer.json that come before the model-specific ones. */
  protected hfHeader(): Record<string, unknown> {
    return { version: '1.0', truncation: null, padding: null, added_tokens: this.hfAddedTokens() };
  }

  private checkId(id: number, what: string): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.tokens.length) {
      throw new ArgumentError(`${what} ${id}: expected an integer in [0, ${this.tokens.length})`);
    }
  }
}

/**
 * A tokenizer over a fixed alphabet that can grow (characters, symbols): what fine-tuning on new
 * data extends. Byte-level BPE is not one: it has a token for every byte, so it encodes any text.
 */
export interface ExtensibleTokenizer extends Tokenizer {
  /** Adds to `into` the symbols of `text` that have no token (they would become `<unk>`). */
  collectUnknown(text: string, into: Set<string>): void;
  /** A copy with `symbols` appended as new tokens after the existing ones, whose ids stay as they are. */
  withTokens(symbols: Iterable<string>): ExtensibleTokenizer;
}

/**
 * True for a tokenizer whose vocabulary can grow (see {@link ExtensibleTokenizer}).
 *
 * @example
 * isExtensible(CharTokenizer.fromCorpus(['abc'])); // true
 */
export function isExtensible(t: Tokenizer): t is ExtensibleTokenizer {
  const x = t as Partial<ExtensibleTokenizer>;
  return typeof x.collectUnknown === 'function' && typeof x.withTokens === 'function';
}
