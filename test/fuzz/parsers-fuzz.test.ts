// A bounded, seeded slice of the parser fuzzer (test/fuzz/parsers.ts): mutated safetensors, tokenizer.json, config.json and checkpoint folders give clear errors or correct loads, never a crash, a hang or a silently wrong result.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PARSERS, fuzzParsers } from './parsers.js';

test('parser fuzz slice: 150 inputs per parser, seed 7: 0 crashes, 0 hangs, 0 silent-wrong', { timeout: 120_000 }, async () => {
  const bad: string[] = [];
  const counts = await fuzzParsers({ count: 150, seed: 7, budgetMs: 10_000, onBad: (p, i, o, d) => bad.push(`${o} ${p} #${i}: ${d}`) });
  assert.deepEqual(bad, []);
  for (const p of PARSERS) {
    const c = counts[p];
    assert.equal(c.clear + c.ok, 150, p);
    // The mutations reach both sides: some inputs are refused with a clear error, some still load.
    assert.ok(c.clear > 0 && c.ok > 0, `${p}: ${JSON.stringify(c)}`);
  }
});
