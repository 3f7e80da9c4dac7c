// A bounded slice of the kill test (test/fuzz/kill.ts): 5 SIGKILLs and 2 SIGINTs of a tiny g2p run, each resumed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipCmudict } from '../data/available.js';
import { killTest } from './kill.js';

test('kill -9 and Ctrl-C at seeded random moments of qkv train: resume never loses saved steps, best/ never gets worse, nothing incomplete is read', { skip: skipCmudict, timeout: 240_000 }, async () => {
  const r = await killTest({ kills: 5, sigints: 2, seed: 7 });
  assert.deepEqual(r.failures, []);
  assert.equal(r.kills, 5);
  assert.equal(r.cleanSigints, 2, 'each SIGINT exits 130 with last/ at the step reached');
  assert.ok(r.highestStep > 0, 'some training was saved');
});
