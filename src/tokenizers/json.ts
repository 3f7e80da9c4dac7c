// tokenizerFromJSON: reads a Hugging Face tokenizer.json (ours, GPT-2 style byte-level BPE, or BERT WordPiece) back.

import { ArgumentError, FormatError } from '../core/errors.js';
import { jsonPreview } from '../core/preview.js';
import { ByteLevelBPE } from './bpe.js';
import { GPT2_PATTERN_SOURCE } from './byte-level.js';
import { CHAR_SPLIT_PRE_TOKENIZER, CharTokenizer } from './char.js';
import { SymbolTokenizer } from './symbol.js';
import type { SpecialTokens, Template, Tokenizer, VocabSpec } from './tokenizer.js';
import { WordPieceTokenizer, type BertNormalizerOptions } from './wordpiece.js';

/** Options of {@link tokenizerFromJSON}. */
export interface FromJSONOptions {
  /**
   * Which tokens play pad, bos, eos and unk, for files whose names we cannot guess
   * (tokenizer.json does not record roles; Hugging Face keeps them in tokenizer_config.json).
   */
  specialTokens?: Partial<Omit<SpecialTokens, 'extra'>>;
}

type Obj = Record<string, unknown>;

/** Names tried for each role, in order, when the options do not name one. */
const ROLE_NAMES = {
  pad: ['<pad>', '[PAD]', '<|pad|>', '<|padding|>', '<|endoftext|>'],
  bos: ['<s>', '<bos>', '[CLS]', '<|startoftext|>', '<|begin_of_text|>', '<|endoftext|>'],
  eos: ['</s>', '<eos>', '[SEP]', '<|end_of_text|>', '<|endoftext|>'],
  unk: ['<unk>', '[UNK]', '<|unk|>', '<|endoftext|>'],
} as const;

/**
 * Reads a tokenizer.json: what our tokenizers' `toJSON` writes (WordLevel char or symbol, BPE,
 * WordPiece), plain Hugging Face byte-level BPE files such as GPT-2's, and BERT's WordPiece files
 * (BertTokenizerFast's layout). Accepts the parsed object or its
 * text. Anything malformed or unsupported is a FormatError naming `source` and the field.
 *
 * @example
 * ```ts
 * const text = JSON.stringify(tok.toJSON());
 * const back = tokenizerFromJSON(text, 'my-tokenizer.json');
 * back.encode('hello'); // same ids as tok.encode('hello')
 * ```
 */
export function tokenizerFromJSON(json: unknown, source = 'tokenizer.json', opts: FromJSONOptions = {}): Tokenizer {
  const fail = (field: string, got: unknown, expected: string): never => {
    throw new FormatError(`${source}: ${field} is ${show(got)}, expected ${expected}`);
  };
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json) as unknown;
    } catch (e) {
      throw new FormatError(`${source}: not JSON (${(e as Error).message})`);
    }
  }
  const root = isObj(json) ? json : fail('the top level', json, 'an object');
  const model = isObj(root['model']) ? root['model'] : fail('model', root['model'], 'an object');
  if (root['normalizer'] != null && model['type'] !== 'WordPiece') fail('normalizer', root['normalizer'], 'null (qkv applies no normalizer)');

  // Vocabulary: the model's, plus added tokens that it lacks.
  const vocab = isObj(model['vocab']) ? model['vocab'] : fail('model.vocab', model['vocab'], 'an object of token → id');
  const tokens: (string | undefined)[] = [];
  const put = (tok: string, id: unknown, field: string) => {
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= 2 ** 26) {
      fail(field, id, 'an integer id in [0, 2^26)');
    }
    const have = tokens[id as number];
    if (have !== undefined && have !== tok) fail(field, id, `an id not already taken by ${JSON.stringify(have)}`);
    tokens[id as number] = tok;
  };
  for (const [tok, id] of Object.entries(vocab)) put(tok, id, `model.vocab[${JSON.stringify(tok)}]`);
  const added = root['added_tokens'] ?? [];
  if (!Array.isArray(added)) fail('added_tokens', added, 'an array');
  const specialIds: number[] = [];
  const addedIds: number[] = [];
  (added as unknown[]).forEach((a, i) => {
    const field = `added_tokens[${i}]`;
    if (!isObj(a)) return fail(field, a, 'an object');
    if (typeof a['content'] !== 'string') fail(`${field}.content`, a['content'], 'a string');
    put(a['content'] as string, a['id'], `${field}.id`);
    (a['special'] === false ? addedIds : specialIds).push(a['id'] as number);
  });
  const missing = tokens.findIndex((t) => t === undefined);
  if (tokens.length === 0) fail('model.vocab', vocab, 'a non-empty vocabulary');
  if (missing >= 0) fail('the vocabulary', `missing id ${missing}`, `ids 0..${tokens.length - 1} with no gaps`);
  const vocabList = tokens as string[];
  const idOf = new Map<string, number>();
  vocabList.forEach((t, i) => idOf.has(t) || idOf.set(t, i));

  // Roles and the addSpecial template.
  const template = readTemplate(root['post_processor'], idOf, fail);
  const specialSet = new Set(specialIds);
  const pick = (role: keyof typeof ROLE_NAMES, hint: number | undefined): number => {
    const named = opts.specialTokens?.[role];
    if (named !== undefined) {
      return idOf.get(named) ?? fail(`specialTokens.${role}`, named, 'a token of the vocabulary');
    }
    if (hint !== undefined) return hint;
    for (const name of ROLE_NAMES[role]) {
      const id = idOf.get(name);
      if (id !== undefined) return id;
    }
    if (specialIds.length > 0) return Math.min(...specialIds);
    return fail('added_tokens', added, `a special token to serve as ${role} (or name it in options.specialTokens)`);
  };
  const unkName = model['unk_token'];
  const unkHint = typeof unkName === 'string' ? idOf.get(unkName) : undefined;
  const spec: VocabSpec = {
    tokens: vocabList,
    padId: pick('pad', undefined),
    bosId: pick('bos', template.prefix.length === 1 && specialSet.has(template.prefix[0]!) ? template.prefix[0] : undefined),
    eosId: pick('eos', template.suffix.length >= 1 && specialSet.has(template.suffix[0]!) ? template.suffix[0] : undefined),
    unkId: pick('unk', unkHint),
    specialIds,
    addedIds,
    template,
  };

  const type = model['type'];
  try {
    if (type === 'WordLevel') return readWordLevel(root, spec, fail);
    if (type === 'BPE') return readBPE(root, model, spec, fail);
    if (type === 'WordPiece') return readWordPiece(root, model, spec, fail);
  } catch (e) {
    if (e instanceof ArgumentError) throw new FormatError(`${source}: ${e.message}`);
    throw e;
  }
  return fail('model.type', type, '"BPE", "WordPiece" or "WordLevel"');
}

type Fail = (field: string, got: unknown, expected: string) => never;

function readWordLevel(root: Obj, spec: VocabSpec, fail: Fail): Tokenizer {
  const pre = root['pre_tokenizer'];
  const decoder = root['decoder'];
  if (isObj(pre) && pre['type'] === 'WhitespaceSplit') {
    if (decoder != null) fail('decoder', decoder, 'null (symbols are joined by spaces)');
    return new SymbolTokenizer(spec);
  }
  if (isCharSplit(pre)) {
    if (!isObj(decoder) || decoder['type'] !== 'Fuse') fail('decoder', decoder, '{"type": "Fuse"}');
    return new CharTokenizer(spec);
  }
  return fail('pre_tokenizer', pre, `${JSON.stringify(CHAR_SPLIT_PRE_TOKENIZER)} or {"type": "WhitespaceSplit"}`);
}

function readBPE(root: Obj, model: Obj, spec: VocabSpec, fail: Fail): Tokenizer {
  for (const f of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    if (model[f] != null && model[f] !== '') fail(`model.${f}`, model[f], 'null or "" (byte-level BPE)');
  }
  if (model['byte_fallback'] === true) fail('model.byte_fallback', true, 'false (byte-level BPE)');
  if (model['dropout'] != null && model['dropout'] !== 0) fail('model.dropout', model['dropout'], 'null (no BPE dropout)');
  const merges = model['merges'];
  if (!Array.isArray(merges)) fail('model.merges', merges, 'an array');
  const pairs = (merges as unknown[]).map((m, i): [string, string] => {
    if (typeof m === 'string') {
      const parts = m.split(' ');
      if (parts.length === 2 && parts[0] !== '' && parts[1] !== '') return [parts[0]!, parts[1]!];
    } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') {
      return [m[0], m[1]];
    }
    return fail(`model.merges[${i}]`, m, '"a b" or ["a", "b"]');
  });

  const decoder = root['decoder'];
  if (!isObj(decoder) || decoder['type'] !== 'ByteLevel') fail('decoder', decoder, '{"type": "ByteLevel", ...}');
  const pre = root['pre_tokenizer'];
  let pattern: string | null;
  let byteLevel: unknown;
  if (isObj(pre) && pre['type'] === 'ByteLevel') {
    byteLevel = pre;
    pattern = pre['use_regex'] === false ? null : GPT2_PATTERN_SOURCE;
  } else if (isObj(pre) && pre['type'] === 'Sequence' && Array.isArray(pre['pretokenizers']) && pre['pretokenizers'].length === 2) {
    const [split, bl] = pre['pretokenizers'] as unknown[];
    const field = 'pre_tokenizer.pretokenizers[0]';
    if (!isObj(split) || split['type'] !== 'Split') return fail(field, split, 'a Split');
    if (split['behavior'] !== 'Isolated' || split['invert'] === true) {
      fail(field, split, 'a Split with behavior "Isolated" and invert false');
    }
    const p = split['pattern'];
    if (isObj(p) && typeof p['Regex'] === 'string') pattern = p['Regex'];
    else if (isObj(p) && typeof p['String'] === 'string') pattern = p['String'].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else return fail(`${field}.pattern`, p, '{"Regex": ...} or {"String": ...}');
    if (!isObj(bl) || bl['type'] !== 'ByteLevel' || bl['use_regex'] !== false) {
      fail('pre_tokenizer.pretokenizers[1]', bl, 'a ByteLevel with use_regex false');
    }
    byteLevel = bl;
  } else {
    return fail('pre_tokenizer', pre, 'a ByteLevel, or a Sequence of a Split and a ByteLevel');
  }
  // Hugging Face's ByteLevel puts a prefix space unless told not to.
  const addPrefixSpace = (byteLevel as Obj)['add_prefix_space'] !== false;
  return new ByteLevelBPE({ ...spec, merges: pairs, pattern, addPrefixSpace, ignoreMerges: model['ignore_merges'] === true });
}

/** A BERT tokenizer.json (BertTokenizerFast's layout): BertNormalizer, BertPreTokenizer, WordPiece model and decoder. */
function readWordPiece(root: Obj, model: Obj, spec: VocabSpec, fail: Fail): Tokenizer {
  const n = root['normalizer'];
  let normalizer: BertNormalizerOptions | null = null;
  if (n != null) {
    if (!isObj(n) || n['type'] !== 'BertNormalizer') return fail('normalizer', n, '{"type": "BertNormalizer", ...} or null');
    const flag = (f: string, dflt: boolean): boolean => {
      const v = n[f] ?? dflt;
      return typeof v === 'boolean' ? v : fail(`normalizer.${f}`, v, 'true or false');
    };
    const sa = n['strip_accents'] ?? null;
    if (sa !== null && typeof sa !== 'boolean') fail('normalizer.strip_accents', sa, 'true, false or null');
    normalizer = {
      cleanText: flag('clean_text', true),
      handleChineseChars: flag('handle_chinese_chars', true),
      stripAccents: sa as boolean | null,
      lowercase: flag('lowercase', true),
    };
  }
  const pre = root['pre_tokenizer'];
  if (!isObj(pre) || pre['type'] !== 'BertPreTokenizer') fail('pre_tokenizer', pre, '{"type": "BertPreTokenizer"}');
  const prefix = model['continuing_subword_prefix'] ?? '##';
  if (typeof prefix !== 'string') fail('model.continuing_subword_prefix', prefix, 'a string');
  const maxChars = model['max_input_chars_per_word'] ?? 100;
  if (!Number.isInteger(maxChars) || (maxChars as number) < 1) fail('model.max_input_chars_per_word', maxChars, 'an integer >= 1');
  const unk = model['unk_token'];
  if (typeof unk !== 'string' || !spec.tokens.includes(unk)) fail('model.unk_token', unk, 'a token of the vocabulary');
  const decoder = root['decoder'];
  if (!isObj(decoder) || decoder['type'] !== 'WordPiece') return fail('decoder', decoder, '{"type": "WordPiece", "prefix": "##", "cleanup": true}');
  if ((decoder['prefix'] ?? '##') !== prefix) fail('decoder.prefix', decoder['prefix'], `the model's prefix ${JSON.stringify(prefix)}`);
  const cleanup = decoder['cleanup'] ?? true;
  if (typeof cleanup !== 'boolean') fail('decoder.cleanup', cleanup, 'true or false');
  return new WordPieceTokenizer({
    ...spec,
    normalizer,
    continuingSubwordPrefix: prefix as string,
    maxInputCharsPerWord: maxChars as number,
    decoderCleanup: cleanup as boolean,
  });
}

/** Reads what `addSpecial` adds from the post_processor (TemplateProcessing, Roberta, Bert, or none). */
function readTemplate(pp: unknown, idOf: ReadonlyMap<string, number>, fail: Fail): Template {
  if (pp == null) return { prefix: [], suffix: [] };
  if (!isObj(pp)) return fail('post_processor', pp, 'an object or null');
  const tokenId = (name: unknown, field: string): number =>
    (typeof name === 'string' ? idOf.get(name) : undefined) ?? fail(field, name, 'a token of the vocabulary');
  switch (pp['type']) {
    case 'ByteLevel':
      return { prefix: [], suffix: [] };
    case 'Sequence': {
      const list = Array.isArray(pp['processors']) ? pp['processors'] : fail('post_processor.processors', pp['processors'], 'an array');
      const found = list.map((p) => readTemplate(p, idOf, fail)).filter((t) => t.prefix.length + t.suffix.length > 0);
      return found[0] ?? { prefix: [], suffix: [] };
    }
    case 'RobertaProcessing':
    case 'BertProcessing': {
      const cls = pp['cls'];
      const sep = pp['sep'];
      const c = Array.isArray(cls) ? tokenId(cls[0], 'post_processor.cls') : fail('post_processor.cls', cls, '[token, id]');
      const s = Array.isArray(sep) ? tokenId(sep[0], 'post_processor.sep') : fail('post_processor.sep', sep, '[token, id]');
      return { prefix: [c], suffix: [s] };
    }
    case 'TemplateProcessing': {
      const single = Array.isArray(pp['single']) ? pp['single'] : fail('post_processor.single', pp['single'], 'an array');
      const specials = isObj(pp['special_tokens']) ? pp['special_tokens'] : {};
      const prefix: number[] = [];
      const suffix: number[] = [];
      let seenSequence = false;
      single.forEach((piece, i) => {
        const field = `post_processor.single[${i}]`;
        if (isObj(piece) && isObj(piece['Sequence'])) {
          seenSequence = true;
          return;
        }
        const st = isObj(piece) && isObj(piece['SpecialToken']) ? piece['SpecialToken'] : fail(field, piece, 'a Sequence or SpecialToken');
        const entry = typeof st['id'] === 'string' && Object.hasOwn(specials, st['id']) ? specials[st['id']] : undefined; // a non-string id is no key (and may nest too deep to become one)
        const ids = isObj(entry) && Array.isArray(entry['ids']) ? (entry['ids'] as unknown[]) : [tokenId(st['id'], `${field}.SpecialToken.id`)];
        for (const id of ids) {
          if (!Number.isInteger(id)) fail(`${field} ids`, id, 'integer ids');
          (seenSequence ? suffix : prefix).push(id as number);
        }
      });
      return { prefix, suffix };
    }
    default:
      return fail('post_processor.type', pp['type'], 'TemplateProcessing, ByteLevel, RobertaProcessing, BertProcessing, Sequence or null');
  }
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True for the Split that CharTokenizer writes, whatever order its keys come in. */
function isCharSplit(pre: unknown): boolean {
  const want = CHAR_SPLIT_PRE_TOKENIZER;
  return (
    isObj(pre) &&
    pre['type'] === want.type &&
    isObj(pre['pattern']) &&
    pre['pattern']['Regex'] === want.pattern.Regex &&
    pre['behavior'] === want.behavior &&
    pre['invert'] !== true
  );
}

/** A short rendering of a bad value for an error message. */
function show(v: unknown): string {
  return jsonPreview(v, 80);
}
