// 50 clients that go away in the middle of their streams (and 10 before theirs starts) leave nothing behind: every
// slot and queue place is free again, the model thread holds no row, and the next clients get whole answers.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { startServer } from '../../src/serve/server.js';
import type { QkvServer } from '../../src/serve/server.js';
import { slowGpt, tinyModels } from './models.js';

let server: QkvServer;

before(async () => {
  const t = await tinyModels();
  server = await startServer({ models: [{ name: 'slow', path: await slowGpt(t) }], port: 0, slots: 16, maxQueue: 64, maxTokens: 1000 });
});
after(async () => { await server?.shutdown(5); });

/** Opens a streamed completion and destroys the connection after `chunks` data chunks (0: as soon as it is sent). */
function leaveAfter(chunks: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      let seen = 0;
      res.on('data', () => {
        if (++seen >= chunks) { req.destroy(); resolve(seen); }
      });
      res.on('end', () => resolve(-1));
    });
    req.on('error', () => resolve(0));
    req.end(JSON.stringify({ model: 'slow', prompt: 'the', max_tokens: 1000, temperature: 0, stream: true }));
    if (chunks === 0) setTimeout(() => { req.destroy(); resolve(0); }, 5);
  });
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

test('50 clients disconnecting mid-stream (and 10 before their first token) leave no slot, queue place or row behind', async () => {
  const seen = await Promise.all([...Array.from({ length: 50 }, (_, i) => leaveAfter(1 + (i % 5))), ...Array.from({ length: 10 }, () => leaveAfter(0))]);
  assert.ok(seen.slice(0, 50).every((n) => n >= 1), `every stream had started: ${seen.join(',')}`);
  const m = server.models.get('slow')!;
  let stats = await m.host.stats();
  for (let i = 0; i < 300 && (m.scheduler.running + m.scheduler.waiting + m.host.pending + stats.rows + stats.waiting > 0); i++) {
    await new Promise((r) => setTimeout(r, 100));
    stats = await m.host.stats();
  }
  assert.deepEqual({ running: m.scheduler.running, queued: m.scheduler.waiting, pending: m.host.pending, rows: stats.rows, waiting: stats.waiting, tasks: stats.tasks }, { running: 0, queued: 0, pending: 0, rows: 0, waiting: 0, tasks: 0 });
  assert.equal(await metric('qkv_active_sequences\\{model="slow"\\}'), 0);
  assert.equal(await metric('qkv_queue_depth\\{model="slow"\\}'), 0);
  assert.ok(await metric('qkv_cancelled_total\\{reason="disconnect"\\}') >= 50, 'each departure cancelled its completion');
  // Every slot serves again: 16 clients at once get whole answers.
  const answers = await Promise.all(Array.from({ length: 16 }, async () => {
    const r = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'slow', prompt: 'the', max_tokens: 20, temperature: 0 }) });
    return (await r.json() as { usage: { completion_tokens: number } }).usage.completion_tokens;
  }));
  assert.equal(new Set(answers).size, 1, 'greedy answers of one prompt agree');
});
