// Split patterns from tokenizer.json run in linear time: a catastrophic-backtracking pattern answers at once, lookaround is refused.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FormatError } from '../../src/core/errors.js';
import { ByteLevelBPE, tokenizerFromJSON } from '../../src/tokenizers/index.js';
import { compileSplitPattern } from '../../src/tokenizers/split-pattern.js';

function withSplit(pattern: string): Record<string, any> {
  const j = ByteLevelBPE.train(['aaaa bbbb aaab'], { vocabSize: 270 }).toJSON() as Record<string, any>;
  j['pre_tokenizer'] = {
    type: 'Sequence',
    pretokenizers: [
      { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  };
  return j;
}

// With backtracking, (a+)+$ on 40 a's and a b tries ~2^40 ways before failing; before the fix this ran past 60 s.
test('a nested-quantifier Split pattern from tokenizer.json matches in linear time', { timeout: 30_000 }, () => {
  const tok = tokenizerFromJSON(withSplit('(a+)+$'), 'evil.json');
  const text = 'a'.repeat(40) + 'b';
  // No match anywhere (the b stops every a-run from reaching the end), so the text is one piece:
  // the same ids as the tokenizer without a pattern.
  const plain = tokenizerFromJSON(withSplit('x'), 'plain.json'); // 'x' never matches either
  assert.deepEqual(tok.encode(text), plain.encode(text));
  assert.equal(tok.decode(tok.encode(text)), text);
});

test('split pieces follow the pattern and join back to the text (by hand)', () => {
  const split = compileSplitPattern(' ?\\p{L}+|\\p{N}+');
  assert.deepEqual(split('héllo wörld 12!'), ['héllo', ' wörld', ' ', '12', '!']);
  assert.deepEqual(split('🙂ab'), ['🙂', 'ab']);
  assert.deepEqual(compileSplitPattern('(a+)+$')('aab aa'), ['aab ', 'aa']);
});

test('lookaround and backreferences in a file pattern are a FormatError naming the file; GPT-2 pattern still loads', () => {
  assert.throws(() => tokenizerFromJSON(withSplit('\\s+(?!\\S)|x'), 'look.json'),
    (e: Error) => e instanceof FormatError && e.message.startsWith('look.json: ') && /RE2 syntax/.test(e.message) && /\(\?!/.test(e.message));
  assert.throws(() => tokenizerFromJSON(withSplit('(a)\\1'), 'back.json'), (e: Error) => e instanceof FormatError && /back\.json: .*RE2/.test(e.message));
  const gpt2 = ByteLevelBPE.train(['hello  world'], { vocabSize: 270 });
  const back = tokenizerFromJSON(JSON.stringify(gpt2.toJSON()), 'gpt2.json');
  assert.deepEqual(back.encode('hello   world\n'), gpt2.encode('hello   world\n'));
});
