// A bounded, seeded slice of the backend fuzz (the full run: `npm run fuzz`): 300 random calls of every backend
// method, valid and broken, in a worker process; none may crash, hang, return silently wrong or throw unclearly.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzBackend } from './backend-fuzz.js';

describe('backend fuzz (seeded slice)', () => {
  it('300 calls: 0 crashes, 0 hangs, 0 silent-wrong, every refusal a typed error naming the method', async () => {
    const c = await fuzzBackend(300, 1);
    assert.equal(c.calls, 300);
    assert.deepEqual({ crashes: c.crashes, hangs: c.hangs, silentWrong: c.silentWrong, unclear: c.unclear, rejectedValid: c.rejectedValid },
      { crashes: 0, hangs: 0, silentWrong: 0, unclear: 0, rejectedValid: 0 }, JSON.stringify(c.failures));
    assert.ok(c.clear > 50 && c.ok > 50, `both valid and broken calls were made: ${c.ok} ok, ${c.clear} clear`);
  });
});
