// ByteLevelBPE: hand-worked training examples, encoding by merge rank, and lossless round trips.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError } from '../../src/core/errors.js';
import { BYTE_TO_CHAR, ByteLevelBPE, gpt2PreTokenize, learnMerges, toByteChars } from '../../src/tokenizers/index.js';
import { ENGLISH, TRICKY, randomStrings } from './strings.js';

const B = 4; // ids of bytes start after <pad> <s> </s> <unk>

test('train: "aaabdaaabac" learns aa, ab, then aa+ab (worked by hand)', () => {
  // Pairs: aa 4, ab 2, bd da ba ac 1 → merge "a a". Word: Z a b d Z a b a c (Z = aa).
  // Pairs: Za 2, ab 2 — a tie; (a, b) = (101, 102) has smaller ids than (Z, a) = (260, 101).
  // Word: Z Y d Z Y a c (Y = ab). Pairs: ZY 2, rest 1 → merge "aa ab". Then every pair is 1 < minFrequency 2.
  const bpe = ByteLevelBPE.train(['aaabdaaabac'], { vocabSize: 1000 });
  assert.deepEqual(bpe.merges, [
    ['a', 'a'],
    ['a', 'b'],
    ['aa', 'ab'],
  ]);
  assert.equal(bpe.vocabSize, 4 + 256 + 3);
  assert.equal(bpe.idToToken(260), 'aa');
  assert.equal(bpe.idToToken(261), 'ab');
  assert.equal(bpe.idToToken(262), 'aaab');
  // aaab d aaab a c
  assert.deepEqual(bpe.encode('aaabdaaabac'), [262, B + 100, 262, B + 97, B + 99]);
});

test('train: Sennrich et al.\'s low/lower/newest/widest, stopped by vocabSize (worked by hand)', () => {
  // Counts: low 5, lower 2, newest 6, widest 3. es 9 and st 9 tie → (e, s) has smaller ids.
  // Then est 9; then lo 7 and ow 7 tie → (l, o); then low 7; then ne, ew, w+est all 6 → (e, w);
  // then n+ew 6 vs ew+est 6 → (n, ew) = (114, 264) before (264, 261); then new+est 6.
  const texts = [
    ...Array<string>(5).fill('low'),
    ...Array<string>(2).fill('lower'),
    ...Array<string>(6).fill('newest'),
    ...Array<string>(3).fill('widest'),
  ];
  const bpe = ByteLevelBPE.train(texts, { vocabSize: 260 + 7 });
  assert.deepEqual(bpe.merges, [
    ['e', 's'],
    ['es', 't'],
    ['l', 'o'],
    ['lo', 'w'],
    ['e', 'w'],
    ['n', 'ew'],
    ['new', 'est'],
  ]);
  assert.deepEqual(
    bpe.encode('lowest').map((id) => bpe.idToToken(id)),
    ['low', 'est'],
  );
  assert.deepEqual(
    bpe.encode('newer').map((id) => bpe.idToToken(id)),
    ['new', 'e', 'r'],
  );
});

test('train: minFrequency stops merging', () => {
  const bpe = ByteLevelBPE.train(['abab', 'cd'], { vocabSize: 1000, minFrequency: 3 });
  assert.deepEqual(bpe.merges, []);
  const bpe2 = ByteLevelBPE.train(['abab', 'cd'], { vocabSize: 1000, minFrequency: 2 });
  assert.deepEqual(bpe2.merges, [['a', 'b']]);
  // With 1: after "a b", (ab, ab) and (c, d) both occur once; (c, d) = (103, 104) has the smaller ids.
  const bpe1 = ByteLevelBPE.train(['abab', 'cd'], { vocabSize: 1000, minFrequency: 1 });
  assert.deepEqual(bpe1.merges, [
    ['a', 'b'],
    ['c', 'd'],
    ['ab', 'ab'],
  ]);
});

test('train: spaces become Ġ and words are counted apart', () => {
  // Pre-tokens: "hi" ×1, " hi" ×2 → pairs h-i 3, Ġ-h 2 → "h i" then "Ġ hi".
  const bpe = ByteLevelBPE.train(['hi hi hi'], { vocabSize: 1000 });
  assert.deepEqual(bpe.merges, [
    ['h', 'i'],
    ['Ġ', 'hi'],
  ]);
  assert.deepEqual(
    bpe.encode('hi hi').map((id) => bpe.idToToken(id)),
    ['hi', 'Ġhi'],
  );
});

test('train: special tokens in the texts are not learned', () => {
  const bpe = ByteLevelBPE.train(['</s></s></s></s>'], { vocabSize: 1000 });
  assert.deepEqual(bpe.merges, []);
  assert.deepEqual(bpe.encode('</s></s>'), [2, 2]);
});

test('train: ids are specials, then 256 bytes in byte order, then merges', () => {
  const bpe = ByteLevelBPE.train(['x'], { vocabSize: 300 });
  assert.deepEqual([bpe.padId, bpe.bosId, bpe.eosId, bpe.unkId], [0, 1, 2, 3]);
  assert.deepEqual([0, 1, 2, 3].map((i) => bpe.idToToken(i)), ['<pad>', '<s>', '</s>', '<unk>']);
  assert.equal(bpe.idToToken(B + 0), 'Ā');
  assert.equal(bpe.idToToken(B + 32), 'Ġ');
  assert.equal(bpe.idToToken(B + 255), 'ÿ');
  assert.equal(bpe.tokenToId('A'), B + 65);
  assert.equal(bpe.vocabSize, 260);
});

test('train: custom special tokens', () => {
  const bpe = ByteLevelBPE.train(['x'], {
    vocabSize: 300,
    specialTokens: { pad: '[PAD]', bos: '<|endoftext|>', eos: '<|endoftext|>', unk: '[UNK]', extra: ['<mask>'] },
  });
  assert.deepEqual([bpe.padId, bpe.bosId, bpe.eosId, bpe.unkId], [0, 1, 1, 2]);
  assert.equal(bpe.tokenToId('<mask>'), 3);
  assert.equal(bpe.idToToken(4), 'Ā');
});

test('train is deterministic', () => {
  const a = ByteLevelBPE.train([ENGLISH], { vocabSize: 400, minFrequency: 1 });
  const b = ByteLevelBPE.train([ENGLISH], { vocabSize: 400, minFrequency: 1 });
  assert.deepEqual(a.merges, b.merges);
  assert.equal(a.vocabSize, 400);
});

test('train: learned merges match a slow recount-everything reference', () => {
  // The reference recounts all pairs after every merge: no incremental bookkeeping to get wrong.
  const words = new Map<string, number>([
    ['abcabc', 3],
    ['bcab', 2],
    ['aaaa', 4],
    ['cab', 5],
    ['ĠabcĠ', 1],
  ]);
  const base = ['<pad>', 'a', 'b', 'c', 'Ġ'];
  const fast = learnMerges(words, base, 40, 1);
  const slow = slowMerges(words, base, 40, 1);
  assert.deepEqual(fast.merges, slow);

  // And on the words of real text, over the full byte alphabet.
  const counts = new Map<string, number>();
  for (const p of gpt2PreTokenize(ENGLISH + ENGLISH.toUpperCase())) counts.set(toByteChars(p), (counts.get(toByteChars(p)) ?? 0) + 1);
  const alphabet = ['<pad>', ...BYTE_TO_CHAR];
  assert.deepEqual(learnMerges(counts, alphabet, 450, 1).merges, slowMerges(counts, alphabet, 450, 1));
});

function slowMerges(words: Map<string, number>, base: string[], vocabSize: number, minFreq: number): [string, string][] {
  const tokens = base.slice();
  const id = new Map(tokens.map((t, i) => [t, i]));
  let syms = [...words].map(([w, f]) => ({ s: [...w].map((c) => id.get(c)!), f }));
  const merges: [string, string][] = [];
  while (tokens.length < vocabSize) {
    const counts = new Map<string, number>();
    for (const { s, f } of syms) for (let i = 0; i + 1 < s.length; i++) counts.set(`${s[i]},${s[i + 1]}`, (counts.get(`${s[i]},${s[i + 1]}`) ?? 0) + f);
    let best: [number, number] | null = null;
    let bestCount = 0;
    for (const [k, c] of counts) {
      const [a, b] = k.split(',').map(Number) as [number, number];
      if (c > bestCount || (c === bestCount && best !== null && (a < best[0] || (a === best[0] && b < best[1])))) {
        best = [a, b];
        bestCount = c;
      }
    }
    if (best === null || bestCount < minFreq) break;
    const merged = tokens[best[0]]! + tokens[best[1]]!;
    let nid = id.get(merged);
    if (nid === undefined) {
      nid = tokens.length;
      tokens.push(merged);
      id.set(merged, nid);
    }
    merges.push([tokens[best[0]]!, tokens[best[1]]!]);
    syms = syms.map(({ s, f }) => {
      const out: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === best![0] && s[i + 1] === best![1]) {
          out.push(nid!);
          i++;
        } else out.push(s[i]!);
      }
      return { s: out, f };
    });
  }
  return merges;
}

test('encode then decode gives back any string', () => {
  const bpe = ByteLevelBPE.train([ENGLISH, ...TRICKY], { vocabSize: 500 });
  for (const s of [...TRICKY, ...randomStrings(3, 400), ENGLISH]) {
    const ids = bpe.encode(s);
    assert.equal(bpe.decode(ids), s, JSON.stringify(s));
    ids.forEach((id) => assert.ok(Number.isInteger(id) && id >= 0 && id < bpe.vocabSize));
  }
  assert.deepEqual(bpe.encode(''), []);
});

test('encode compresses trained text; addSpecial wraps in <s> … </s>; skipSpecial drops them', () => {
  const bpe = ByteLevelBPE.train([ENGLISH], { vocabSize: 600 });
  const ids = bpe.encode(ENGLISH);
  assert.ok(ids.length < new TextEncoder().encode(ENGLISH).length / 2);
  const wrapped = bpe.encode('the model', { addSpecial: true });
  assert.equal(wrapped[0], bpe.bosId);
  assert.equal(wrapped.at(-1), bpe.eosId);
  assert.equal(bpe.decode(wrapped), '<s>the model</s>');
  assert.equal(bpe.decode(wrapped, { skipSpecial: true }), 'the model');
});

test('errors name the bad value', () => {
  assert.throws(() => ByteLevelBPE.train(['x'], { vocabSize: 100 }), (e: Error) => e instanceof ArgumentError && /vocabSize 100/.test(e.message));
  assert.throws(() => ByteLevelBPE.train(['x'], { vocabSize: 300, minFrequency: 0 }), ArgumentError);
  const bpe = ByteLevelBPE.train(['x'], { vocabSize: 300 });
  assert.throws(() => bpe.decode([260]), (e: Error) => e instanceof ArgumentError && /260/.test(e.message));
  assert.throws(() => bpe.decode([1.5]), ArgumentError);
  assert.throws(() => bpe.idToToken(-1), ArgumentError);
});

test('WordCache: each word encoded once while remembered; emptied when it holds `limit` words', async () => {
  const { WordCache } = await import('../../src/tokenizers/tokenizer.js');
  const calls: string[] = [];
  const cache = new WordCache((w) => { calls.push(w); return [w.length]; }, 2);
  assert.deepEqual([cache.ids('ab'), cache.ids('ab'), cache.ids('c')], [[2], [2], [1]]);
  assert.deepEqual(calls, ['ab', 'c']);
  cache.ids('def'); // the third word: the two remembered are dropped first
  cache.ids('ab');
  assert.deepEqual(calls, ['ab', 'c', 'def', 'ab']);
});
