// `qkv serve` as a user runs it (a child process): SIGTERM while 24 completions are running or queued stops it
// accepting new ones, lets every accepted one finish whole, and exits 0.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { test } from 'node:test';
import { BIN, ROOT } from '../helpers/cli-process.js';
import { slowGpt, tinyModels } from './models.js';

interface Done { status: number; text: string; finish: string | null; tokens: number }

/**
 * A completion on its own connection: whole (JSON) or streamed (its chunks joined, the last finish_reason).
 * `accepted` is called when the server has taken it: a stream's 200 arrives as soon as it is admitted.
 */
function complete(url: string, stream: boolean, maxTokens: number, accepted: () => void = () => {}): Promise<Done> {
  return new Promise((resolve) => {
    const req = request(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      if (res.statusCode === 200) accepted();
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve({ status: res.statusCode ?? 0, text: data, finish: null, tokens: 0 });
        if (!stream) {
          const b = JSON.parse(data) as { choices: { text: string; finish_reason: string }[]; usage: { completion_tokens: number } };
          return resolve({ status: 200, text: b.choices[0].text, finish: b.choices[0].finish_reason, tokens: b.usage.completion_tokens });
        }
        const events = data.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
        const chunks = events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e) as { choices?: { text: string; finish_reason: string | null }[]; error?: unknown });
        const finish = chunks.flatMap((c) => c.choices ?? []).map((c) => c.finish_reason).filter(Boolean).pop() ?? null;
        resolve({ status: chunks.some((c) => c.error) ? 500 : 200, text: chunks.flatMap((c) => c.choices ?? []).map((c) => c.text).join(''), finish, tokens: events.at(-1) === '[DONE]' ? -1 : 0 });
      });
    });
    req.on('error', (e) => resolve({ status: 0, text: e.message, finish: null, tokens: 0 }));
    req.end(JSON.stringify({ model: 'slow', prompt: 'the', max_tokens: maxTokens, temperature: 0, stream }));
  });
}

test('SIGTERM under load: accepted completions all finish whole, later ones are refused, exit code 0', { timeout: 240_000 }, async () => {
  const t = await tinyModels();
  const slow = await slowGpt(t);
  const child = spawn(process.execPath, [BIN, 'serve', `slow=${slow}`, '--port', '0', '--slots', '2', '--max-queue', '32', '--grace', '200'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        const m = /listening on (http:\/\/[^\s]+)/.exec(out);
        if (m) resolve(m[1]);
      });
      void exited.then((code) => reject(new Error(`qkv serve exited (${code}) before listening: ${err}`)));
    });
    const MAX = 200;
    // 16 streams (each accepted when its 200 arrives: 2 decoding, the rest queued), then 8 whole completions.
    let accepted = 0;
    const answers: Promise<Done>[] = [];
    const allAccepted = new Promise<void>((resolve) => {
      const streams = Array.from({ length: 16 }, () => complete(url, true, MAX, () => { if (++accepted === 16) resolve(); }));
      answers.push(...streams);
    });
    await allAccepted;
    answers.push(...Array.from({ length: 8 }, () => complete(url, false, MAX)));
    const h = await (await fetch(`${url}/health`)).json() as { models: { active: number; queued: number }[] };
    assert.ok(h.models[0].active + h.models[0].queued >= 10, `completions in flight at SIGTERM: ${JSON.stringify(h)}`);
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    const late = await complete(url, false, 4);
    assert.ok(late.status === 0 || late.status === 503, `a request after SIGTERM is refused (${late.status} ${late.text.slice(0, 80)})`);
    const done = await Promise.all(answers);
    const code = await exited;
    assert.equal(code, 0, `exit code (stderr: ${err})`);
    const whole = done.filter((d) => d.status === 200);
    for (const [i, d] of done.entries()) {
      if (i < 16 || d.status === 200) {
        assert.equal(d.status, 200, `accepted completion ${i} answered: ${d.text.slice(0, 200)}`);
        assert.equal(d.finish, 'length', `accepted completion ${i} finished whole`);
      } else {
        assert.ok(d.status === 503 || d.status === 0, `completion ${i}, sent with the signal, refused rather than cut: ${d.status}`);
      }
    }
    assert.equal(new Set(whole.map((d) => d.text)).size, 1, 'one prompt, greedy: the same whole text in every answer');
    assert.match(err, /SIGTERM: no new requests/);
    assert.match(err, /stopped \(\d+ requests finished, 0 cut\)/);
  } finally {
    child.kill('SIGKILL');
  }
});
