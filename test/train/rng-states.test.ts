// Module.rngStates / setRngStates: the dropout generators a checkpoint saves, named, shared ones once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dropout, Module, MultiHeadAttention, Rng, StateDictError, Transformer } from '../../src/index.js';

class TwoDrops extends Module {
  readonly a = this.addModule('a', new Dropout(0.5, new Rng(1)));
  readonly b = this.addModule('b', new Dropout(0.5, new Rng(2)));
  readonly attn = this.addModule('attn', new MultiHeadAttention(4, 2, { rng: new Rng(3), dropout: 0.1, dropoutRng: this.a.rng }));
}

test('every Dropout and attention generator is listed by name; a shared one once, under its first name', () => {
  const m = new TwoDrops();
  assert.deepEqual(m.namedRngs().map(([n]) => n), ['a.rng', 'b.rng']);
  // The Transformer passes one dropout generator to every layer: one entry.
  const t = new Transformer({ srcVocab: 5, tgtVocab: 5, dModel: 4, heads: 2, dFF: 8, encoderLayers: 1, decoderLayers: 1 });
  assert.deepEqual(Object.keys(t.rngStates()), ['dropout.rng']);
});

test('setRngStates restores the exact draws, a pending spare normal included', () => {
  const m = new TwoDrops();
  m.a.rng.normal(); // leaves a spare normal in the state
  const saved = m.rngStates();
  const want = [m.a.rng.normal(), m.a.rng.uniform(), m.b.rng.uniform()];
  const other = new TwoDrops();
  other.setRngStates(saved);
  assert.deepEqual([other.a.rng.normal(), other.a.rng.uniform(), other.b.rng.uniform()], want);
});

test('setRngStates names missing, unexpected and malformed entries', () => {
  const m = new TwoDrops();
  assert.throws(() => m.setRngStates({ 'a.rng': [1, 2, 3, 4, NaN], 'c.rng': [1, 2, 3, 4, NaN] }),
    (e: Error) => e instanceof StateDictError && /missing: b\.rng; unexpected: c\.rng/.test(e.message));
  assert.throws(() => m.setRngStates({ 'a.rng': [1, 2], 'b.rng': [1, 2, 3, 4, NaN] }), /a\.rng: \[1,2\], expected 5 numbers/);
});
