// tokenizer.json: save → load gives the same tokenizer, and malformed files are FormatErrors.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FormatError } from '../../src/core/errors.js';
import {
  ByteLevelBPE,
  CharTokenizer,
  SymbolTokenizer,
  tokenizerFromJSON,
  type Tokenizer,
} from '../../src/tokenizers/index.js';
import { ENGLISH, TRICKY, randomStrings } from './strings.js';

const SAMPLES = [...TRICKY, ...randomStrings(5, 200), ENGLISH];

function tokenizers(): [string, Tokenizer][] {
  return [
    ['char', CharTokenizer.fromCorpus(SAMPLES)],
    ['symbol', SymbolTokenizer.fromCorpus(['HH AH0 L OW1', 'W ER1 L D', ...SAMPLES])],
    ['bpe', ByteLevelBPE.train([ENGLISH, ...TRICKY], { vocabSize: 500 })],
  ];
}

test('save → load gives identical encodings, decodings and vocabularies', () => {
  for (const [name, tok] of tokenizers()) {
    const text = JSON.stringify(tok.toJSON());
    const back = tokenizerFromJSON(text, `${name}.json`);
    assert.equal(back.constructor, tok.constructor, name);
    assert.equal(back.vocabSize, tok.vocabSize, name);
    assert.deepEqual([back.padId, back.bosId, back.eosId, back.unkId], [tok.padId, tok.bosId, tok.eosId, tok.unkId]);
    for (let id = 0; id < tok.vocabSize; id++) assert.equal(back.idToToken(id), tok.idToToken(id));
    for (const s of SAMPLES) {
      const ids = tok.encode(s);
      assert.deepEqual(back.encode(s), ids, `${name} ${JSON.stringify(s)}`);
      assert.deepEqual(back.encode(s, { addSpecial: true }), tok.encode(s, { addSpecial: true }));
      assert.equal(back.decode(ids), tok.decode(ids));
    }
    // Writing again gives the same file.
    assert.equal(JSON.stringify(back.toJSON()), text, name);
  }
});

test('tokenizer.json layout: what Hugging Face writes', () => {
  const bpe = ByteLevelBPE.train(['hi hi hi'], { vocabSize: 300 }).toJSON() as Record<string, any>;
  assert.deepEqual(Object.keys(bpe), [
    'version', 'truncation', 'padding', 'added_tokens', 'normalizer', 'pre_tokenizer', 'post_processor', 'decoder', 'model',
  ]);
  assert.equal(bpe['version'], '1.0');
  assert.deepEqual(bpe['added_tokens'][1], {
    id: 1, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  });
  assert.deepEqual(bpe['pre_tokenizer'], { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true });
  assert.deepEqual(bpe['decoder'], { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true });
  assert.equal(bpe['post_processor'].type, 'TemplateProcessing');
  assert.deepEqual(bpe['post_processor'].single, [
    { SpecialToken: { id: '<s>', type_id: 0 } },
    { Sequence: { id: 'A', type_id: 0 } },
    { SpecialToken: { id: '</s>', type_id: 0 } },
  ]);
  assert.equal(bpe['model'].type, 'BPE');
  assert.deepEqual(bpe['model'].merges, ['h i', 'Ġ hi']);
  assert.equal(bpe['model'].vocab['Ġhi'], 261);
  const char = CharTokenizer.fromCorpus(['ab']).toJSON() as Record<string, any>;
  assert.deepEqual(char['model'], { type: 'WordLevel', vocab: { '<pad>': 0, '<s>': 1, '</s>': 2, '<unk>': 3, a: 4, b: 5 }, unk_token: '<unk>' });
  assert.deepEqual(char['decoder'], { type: 'Fuse' });
  const sym = SymbolTokenizer.fromCorpus(['A B']).toJSON() as Record<string, any>;
  assert.deepEqual(sym['pre_tokenizer'], { type: 'WhitespaceSplit' });
  assert.equal(sym['decoder'], null);
});

test('a token named __proto__ survives save and load', () => {
  const tok = SymbolTokenizer.fromSymbols(['__proto__', 'constructor']);
  const back = tokenizerFromJSON(JSON.stringify(tok.toJSON()));
  assert.deepEqual(back.encode('__proto__ constructor'), [4, 5]);
});

test('roles can be named when the file does not use standard names', () => {
  const tok = CharTokenizer.fromCorpus(['ab'], { specialTokens: { pad: '[P]', bos: '[B]', eos: '[E]', unk: '[U]' } });
  const json = tok.toJSON();
  const back = tokenizerFromJSON(json, 'x.json', { specialTokens: { pad: '[P]', unk: '[U]' } });
  assert.deepEqual([back.padId, back.bosId, back.eosId, back.unkId], [0, 1, 2, 3]); // bos/eos from the template
  assert.throws(() => tokenizerFromJSON(json, 'x.json', { specialTokens: { pad: '[nope]' } }), /specialTokens\.pad/);
});

/** A valid small BPE file to break one field at a time. */
function goodBPE(): Record<string, any> {
  return ByteLevelBPE.train(['hi hi hi'], { vocabSize: 300 }).toJSON() as Record<string, any>;
}

test('malformed tokenizer.json: FormatError naming the source and the field', () => {
  const cases: [string, (j: Record<string, any>) => unknown, RegExp][] = [
    ['not JSON', () => '{"model": ', /not JSON/],
    ['top level', () => [1, 2], /the top level/],
    ['model missing', (j) => (delete j['model'], j), /model is missing/],
    ['model type', (j) => ((j['model'].type = 'Unigram'), j), /model\.type is "Unigram"/],
    ['vocab', (j) => ((j['model'].vocab = [1]), j), /model\.vocab/],
    ['negative id', (j) => ((j['model'].vocab['h'] = -1), j), /model\.vocab\["h"\] is -1/],
    ['duplicate id', (j) => ((j['model'].vocab['h'] = 5), j), /model\.vocab\["h"\] is 5/],
    ['gap', (j) => (delete j['model'].vocab['Ā'], delete j['added_tokens'], j), /missing id 4/],
    ['merges not array', (j) => ((j['model'].merges = 'h i'), j), /model\.merges is "h i"/],
    ['merge without space', (j) => ((j['model'].merges[0] = 'hi'), j), /model\.merges\[0\] is "hi"/],
    ['merge number', (j) => ((j['model'].merges[1] = 7), j), /model\.merges\[1\] is 7/],
    ['merge out of vocab', (j) => ((j['model'].merges[0] = 'h ☃'), j), /merge 0 .*"☃" is not in the vocabulary/],
    ['added_tokens', (j) => ((j['added_tokens'] = {}), j), /added_tokens is \{\}/],
    ['added content', (j) => ((j['added_tokens'][0].content = 3), j), /added_tokens\[0\]\.content is 3/],
    ['normalizer', (j) => ((j['normalizer'] = { type: 'Lowercase' }), j), /normalizer/],
    ['pre_tokenizer', (j) => ((j['pre_tokenizer'] = { type: 'Metaspace' }), j), /pre_tokenizer is \{"type":"Metaspace"\}/],
    ['decoder', (j) => ((j['decoder'] = null), j), /decoder is null/],
    ['subword prefix', (j) => ((j['model'].continuing_subword_prefix = '##'), j), /continuing_subword_prefix/],
    ['post_processor', (j) => ((j['post_processor'] = { type: 'Weird' }), j), /post_processor\.type is "Weird"/],
    ['template token', (j) => ((j['post_processor'].special_tokens = {}), (j['post_processor'].single[0].SpecialToken.id = '<nope>'), j), /post_processor\.single\[0\]/],
  ];
  for (const [name, breakIt, pattern] of cases) {
    const bad = breakIt(goodBPE());
    assert.throws(
      () => tokenizerFromJSON(bad, 'broken.json'),
      (e: Error) => e instanceof FormatError && e.message.startsWith('broken.json: ') && pattern.test(e.message),
      name,
    );
  }
  const char = CharTokenizer.fromCorpus(['ab']).toJSON() as Record<string, any>;
  char['pre_tokenizer'] = { type: 'Whitespace' };
  assert.throws(() => tokenizerFromJSON(char, 'c.json'), /c\.json: pre_tokenizer/);
  const char2 = CharTokenizer.fromCorpus(['ab']).toJSON() as Record<string, any>;
  char2['decoder'] = null;
  assert.throws(() => tokenizerFromJSON(char2, 'c.json'), /c\.json: decoder is null, expected \{"type": "Fuse"\}/);
});

test('a field nested 100,000 levels deep is a FormatError naming the field (its message once overflowed the stack)', () => {
  const j = CharTokenizer.fromCorpus(['ab']).toJSON() as Record<string, any>;
  const text = JSON.stringify({ ...j, decoder: 'DEEP' }).replace('"DEEP"', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000));
  assert.throws(() => tokenizerFromJSON(text, 'deep.json'), (e: Error) => e instanceof FormatError && /^deep\.json: decoder is \{"a":\{"a":/.test(e.message));
});

test('a template SpecialToken id nested 100,000 levels deep is a FormatError (using it as a key once overflowed the stack)', () => {
  const j = goodBPE();
  j['post_processor'].single[0].SpecialToken.id = 'DEEP';
  const text = JSON.stringify(j).replace('"DEEP"', '['.repeat(100_000) + '1' + ']'.repeat(100_000));
  assert.throws(() => tokenizerFromJSON(text, 'deep.json'), (e: Error) => e instanceof FormatError && /^deep\.json: post_processor\.single\[0\]\.SpecialToken\.id is \[\[\[/.test(e.message));
});
