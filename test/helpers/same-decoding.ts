// Shared check of the fast decoding paths: greedy and beam search give the tokens of a reference model.

import assert from 'node:assert/strict';
import { beamSearchCausal, generate } from '../../src/generate/index.js';
import type { GPT } from '../../src/models/gpt.js';

/**
 * Greedy generation of `steps` tokens with `fast` equals `slow`'s and `fast`'s own uncached run, is
 * not one repeated token, and beam search (beam 3, 8 tokens) gives the same hypotheses with scores
 * within 1e-4. `calls()` counts the fast path's uses: it must be taken.
 */
export function assertSameDecoding(fast: GPT, slow: GPT, prompts: number[][], steps: number, calls: () => number): void {
  const a = generate(fast, prompts, { maxNewTokens: steps });
  assert.ok(calls() > 0, 'generate took the fast path');
  assert.deepEqual(a, generate(slow, prompts, { maxNewTokens: steps }));
  assert.deepEqual(a, generate(fast, prompts, { maxNewTokens: steps, useCache: false }));
  assert.ok(new Set(a.flat()).size >= 2, `not a constant sequence: ${JSON.stringify(a)}`);
  const opts = { eos: 0, maxLen: 8, beamSize: 3 };
  const bf = beamSearchCausal(fast, prompts, opts);
  const bs = beamSearchCausal(slow, prompts, opts);
  assert.deepEqual(bf.map((h) => h.map((x) => x.tokens)), bs.map((h) => h.map((x) => x.tokens)));
  bf.flat().forEach((h, i) => assert.ok(Math.abs(h.score - bs.flat()[i].score) <= 1e-4, `beam score ${h.score} vs ${bs.flat()[i].score}`));
}
