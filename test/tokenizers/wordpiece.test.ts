// WordPiece: BERT normalisation and pre-tokenisation, greedy longest-match splits, training, and
// tokenizer.json read by Hugging Face's tokenizers.js (the independent reference) and by us.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import {
  WordPieceTokenizer,
  bertNormalize,
  bertPreTokenize,
  tokenizerFromJSON,
  wordPieceTokenizerConfig,
} from '../../src/tokenizers/index.js';
import { FormatError } from '../../src/core/errors.js';
import { ENGLISH, randomStrings } from './strings.js';

const SPECIALS = ['[PAD]', '[CLS]', '[SEP]', '[UNK]', '[MASK]'];

/** A tokenizer over a hand-written vocabulary (ids in list order). */
function fromVocab(words: string[], extra: Partial<ConstructorParameters<typeof WordPieceTokenizer>[0]> = {}): WordPieceTokenizer {
  return new WordPieceTokenizer({ tokens: [...SPECIALS, ...words], padId: 0, bosId: 1, eosId: 2, unkId: 3, specialIds: [0, 1, 2, 3, 4], ...extra });
}

const pieces = (t: WordPieceTokenizer, s: string) => t.encode(s).map((id) => t.idToToken(id));

test('BertNormalizer: controls dropped, whitespace to spaces, CJK spaced, accents stripped, lowercased', () => {
  assert.equal(bertNormalize('Héllo\tWORLD\r\n'), 'hello world  ');
  assert.equal(bertNormalize('a\u0000b\u0001c\u00add\uFFFDe\u200Bf'), 'abcdef'); // NUL, SOH, soft hyphen, U+FFFD, zero width space (Cf)
  assert.equal(bertNormalize('中文ok'), ' 中  文 ok');
  assert.equal(bertNormalize('Ñandú Ελληνικά'), 'nandu ελληνικα');
  assert.equal(bertNormalize('ΟΔΟΣ'), 'οδοσ'); // per character, as Rust: no final-sigma rule
  assert.equal(bertNormalize('Héllo', { lowercase: false }), 'Héllo'); // strip_accents null follows lowercase
  assert.equal(bertNormalize('Héllo', { lowercase: false, stripAccents: true }), 'Hello');
  assert.equal(bertNormalize('a\u3000b\u00a0c'), 'a b c');
});

test('BertPreTokenizer: whitespace removed, every punctuation character a word', () => {
  assert.deepEqual(bertPreTokenize("  don't  stop!\n"), ['don', "'", 't', 'stop', '!']);
  assert.deepEqual(bertPreTokenize('$5+3=8 «oui» 1,000.5'), ['$', '5', '+', '3', '=', '8', '«', 'oui', '»', '1', ',', '000', '.', '5']);
  assert.deepEqual(bertPreTokenize('e-mail@host.com'), ['e', '-', 'mail', '@', 'host', '.', 'com']);
  assert.deepEqual(bertPreTokenize(' \t '), []);
});

test('WordPiece splits: greedy longest match first, ## continuations, [UNK] for the whole word', () => {
  const t = fromVocab(['un', '##aff', '##able', 'jim', 'henson', 'was', 'a', 'puppet', '##eer', 'ab', '##c', '##bc', '##a', ',', '!']);
  assert.deepEqual(pieces(t, 'unaffable'), ['un', '##aff', '##able']);
  assert.deepEqual(pieces(t, 'Jim Henson was a puppeteer!'), ['jim', 'henson', 'was', 'a', 'puppet', '##eer', '!']);
  assert.deepEqual(pieces(t, 'abc'), ['ab', '##c']); // not a + ##bc: the longest first piece wins
  assert.deepEqual(pieces(t, 'unaffablex, a'), ['[UNK]', ',', 'a']); // one unknown tail makes the word [UNK]
  assert.deepEqual(pieces(t, 'a'.repeat(100)), ['a', ...Array(99).fill('##a')]);
  assert.deepEqual(pieces(t, 'a'.repeat(101)), ['[UNK]']); // max_input_chars_per_word 100
  assert.deepEqual(pieces(t, 'a [MASK] a[SEP]'), ['a', '[MASK]', 'a', '[SEP]']); // specials in the text
  assert.equal(t.maskId, 4);
  assert.deepEqual(t.encode('a', { addSpecial: true }), [1, 11, 2]);
});

test('decode: ## pieces glue on, cleanup takes the space before punctuation and contractions', () => {
  const t = fromVocab(['un', '##aff', '##able', 'it', "'", 's', 'n', 't', 'do', ',', '.', 'x']);
  const ids = t.encode("[CLS] unaffable, it's . do n't x [SEP]");
  // cleanup runs per token, as in HF: " ," and " ." lose their space, " '" (no space after) does not
  assert.equal(t.decode(ids), "[CLS] unaffable, it ' s. do n ' t x [SEP]");
  assert.equal(t.decode(ids, { skipSpecial: true }), "unaffable, it ' s. do n ' t x");
  const raw = new WordPieceTokenizer({ ...specOf(t), decoderCleanup: false });
  assert.equal(raw.decode(t.encode('unaffable , x .')), 'unaffable , x .');
});

function specOf(t: WordPieceTokenizer) {
  return { tokens: Array.from({ length: t.vocabSize }, (_, i) => t.idToToken(i)), padId: 0, bosId: 1, eosId: 2, unkId: 3, specialIds: [0, 1, 2, 3, 4] };
}

test('training: alphabet, ## alphabet, then the most frequent pair merged (hand-computed)', () => {
  // words hug ×2, pug ×1. Pairs: (h, ##u) 2, (##u, ##g) 3, (p, ##u) 1 → ##ug; then (h, ##ug) 2 → hug; then (p, ##ug) 1 → pug.
  const t = WordPieceTokenizer.train(['Hug hug pug'], { vocabSize: 100, minFrequency: 1 });
  assert.deepEqual(specOf(t).tokens, [...SPECIALS, 'g', 'h', 'p', 'u', '##g', '##u', '##ug', 'hug', 'pug']);
  const two = WordPieceTokenizer.train(['hug hug pug'], { vocabSize: 100 }); // minFrequency 2 stops before pug
  assert.deepEqual(specOf(two).tokens.slice(-2), ['##ug', 'hug']);
  assert.deepEqual(pieces(two, 'pug hugs'), ['p', '##ug', '[UNK]']);
  const cut = WordPieceTokenizer.train(['hug hug pug'], { vocabSize: 12, minFrequency: 1 });
  assert.equal(cut.vocabSize, 12);
  // Order of texts does not matter.
  const a = WordPieceTokenizer.train([ENGLISH, 'second text here'], { vocabSize: 300 });
  const b = WordPieceTokenizer.train(['second text here', ENGLISH], { vocabSize: 300 });
  assert.deepEqual(specOf(a).tokens, specOf(b).tokens);
});

/** tokenizers.js reads our tokenizer.json; both encode and decode alike. */
function compareWithHF(ours: WordPieceTokenizer, json: object, samples: readonly string[]): void {
  const hf = new HFTokenizer(JSON.parse(JSON.stringify(json)), wordPieceTokenizerConfig(ours));
  for (const s of samples) {
    for (const addSpecial of [false, true]) {
      const ids = ours.encode(s, { addSpecial });
      assert.deepEqual(ids, hf.encode(s, { add_special_tokens: addSpecial }).ids, `encode ${JSON.stringify(s)} addSpecial=${addSpecial}`);
      if (ids.length === 0) continue;
      for (const skipSpecial of [false, true]) {
        const text = hf.decode(ids, { skip_special_tokens: skipSpecial, clean_up_tokenization_spaces: false });
        assert.equal(ours.decode(ids, { skipSpecial }), text, `decode ${JSON.stringify(s)}`);
      }
    }
  }
}

// Varied text, avoiding where tokenizers.js itself departs from Rust tokenizers (unassigned code
// points, CJK outside the BMP, lowercase-then-strip order for rare letters, final sigma).
const VARIED = [
  '', ' ', '\n\t', 'Hello, World!', "It's the model's [MASK] — isn't it?", 'Ünïcödé ñ 中文 日本語 한국어 кириллица',
  'numbers 12345 3.14 1,000,000', 'e-mail: someone@example.com (urgent!!!)', 'zero\u200Bwidth and e\u0301 combining',
  '\u0000\u0001\u007f\u0080\u00ad controls', 'emoji 🙂👍🏽 flag 🇩🇪', 'a'.repeat(101), 'a'.repeat(100), '[CLS] x [SEP] [PAD][UNK]',
  'Subject: FREE $$$ click <here> now', 'tabs\t\tand\nnewlines\n\n', '\uFEFFbom at start',
];

test('tokenizers.js reads our WordPiece tokenizer.json and encodes and decodes exactly as we do', () => {
  const ours = WordPieceTokenizer.train([ENGLISH, ...VARIED.slice(0, 8)], { vocabSize: 400 });
  // Unassigned code points (Cn) are controls to Rust tokenizers, not to tokenizers.js: left out.
  const random = randomStrings(11, 120).map((s) => s.replace(/\p{Cn}/gu, ''));
  compareWithHF(ours, ours.toJSON(), [...VARIED, ENGLISH, ...random]);
  const cased = WordPieceTokenizer.train([ENGLISH, ...VARIED.slice(0, 8)], { vocabSize: 400, lowercase: false });
  compareWithHF(cased, cased.toJSON(), [...VARIED, ENGLISH]);
});

test('our tokenizer.json reads back (tokenizerFromJSON) as the same tokenizer', () => {
  const ours = WordPieceTokenizer.train([ENGLISH], { vocabSize: 300 });
  const back = tokenizerFromJSON(JSON.stringify(ours.toJSON()), 'wp.json');
  assert.ok(back instanceof WordPieceTokenizer);
  assert.equal(back.maskId, 4);
  assert.deepEqual(back.toJSON(), ours.toJSON());
  for (const s of VARIED) assert.deepEqual(back.encode(s, { addSpecial: true }), ours.encode(s, { addSpecial: true }));
});

/** A BERT tokenizer.json laid out as Hugging Face writes bert-base-uncased's (BertProcessing, [UNK] at 100). */
function hfBertFixture(): Record<string, unknown> {
  const vocab: Record<string, number> = { '[PAD]': 0 };
  for (let i = 1; i < 100; i++) vocab[`[unused${i - 1}]`] = i;
  Object.assign(vocab, { '[UNK]': 100, '[CLS]': 101, '[SEP]': 102, '[MASK]': 103 });
  const words = ['!', ',', '.', 'the', 'hello', 'world', 'un', '##aff', '##able', 'spam', '##my', 'cafe', 'a', 'free', 'now'];
  words.forEach((w, i) => (vocab[w] = 104 + i));
  const added = [0, 100, 101, 102, 103].map((id) => ({
    id, content: Object.keys(vocab).find((k) => vocab[k] === id), single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  }));
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: added,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', 102], cls: ['[CLS]', 101] },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

test('a Hugging Face BERT tokenizer.json reads: roles, ids and decoding as bert-base-uncased lays them out', () => {
  const json = hfBertFixture();
  const t = tokenizerFromJSON(json, 'bert/tokenizer.json') as WordPieceTokenizer;
  assert.ok(t instanceof WordPieceTokenizer);
  assert.deepEqual([t.padId, t.bosId, t.eosId, t.unkId, t.maskId], [0, 101, 102, 100, 103]);
  // hello 108, "," 105, world 109, "!" 104; Café → cafe 115; unaffable → un ##aff ##able; spammy → spam ##my.
  assert.deepEqual(t.encode('Hello, WORLD! Café unaffable spammy xyz', { addSpecial: true }),
    [101, 108, 105, 109, 104, 115, 110, 111, 112, 113, 114, 100, 102]);
  assert.equal(t.decode([101, 108, 105, 109, 104, 102], { skipSpecial: true }), 'hello, world!');
  const hf = new HFTokenizer(json, { unk_token: '[UNK]' });
  for (const s of ['Hello, WORLD! Café unaffable spammy xyz', 'free spam now!!!', 'The [MASK] world.']) {
    assert.deepEqual(t.encode(s, { addSpecial: true }), hf.encode(s).ids, s);
  }
  // Written back, it is HF's BertTokenizerFast layout with TemplateProcessing: tokenizers.js agrees.
  compareWithHF(t, t.toJSON(), ['Hello, WORLD! Café unaffable spammy xyz', 'free spam now!!!', 'The [MASK] world.']);
});

test('malformed WordPiece files are FormatErrors that name the field', () => {
  const bad = (patch: (j: Record<string, any>) => void, field: RegExp) => {
    const j = hfBertFixture() as Record<string, any>;
    patch(j);
    assert.throws(() => tokenizerFromJSON(j, 'bert.json'), (e: unknown) => e instanceof FormatError && field.test((e as Error).message));
  };
  bad((j) => (j['normalizer'] = { type: 'Lowercase' }), /bert\.json: normalizer .*BertNormalizer/);
  bad((j) => (j['pre_tokenizer'] = { type: 'Whitespace' }), /pre_tokenizer .*BertPreTokenizer/);
  bad((j) => (j['model']['unk_token'] = '<unk>'), /model\.unk_token .*a token of the vocabulary/);
  bad((j) => (j['decoder'] = { type: 'ByteLevel' }), /decoder .*WordPiece/);
  bad((j) => (j['model']['max_input_chars_per_word'] = 0), /max_input_chars_per_word/);
  bad((j) => (j['normalizer']['lowercase'] = 'yes'), /normalizer\.lowercase .*true or false/);
});

test('tokenizer_config.json names BertTokenizer and the special tokens by role', () => {
  const t = WordPieceTokenizer.train(['hello world'], { vocabSize: 50 });
  const c = wordPieceTokenizerConfig(t, { modelMaxLength: 128 });
  assert.equal(c['tokenizer_class'], 'BertTokenizer');
  assert.deepEqual([c['pad_token'], c['cls_token'], c['sep_token'], c['unk_token'], c['mask_token']], SPECIALS);
  assert.equal(c['do_lower_case'], true);
  assert.equal(c['model_max_length'], 128);
  assert.deepEqual(Object.keys(c['added_tokens_decoder'] as object), ['0', '1', '2', '3', '4']);
});
