// `qkv view`'s server (the page and a checkpoint on 127.0.0.1, read-only, cross-origin isolated) and
// `qkv attention --out` (one self-contained HTML file holding the view), without a browser.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { serveView } from '../../src/cli/view.js';
import { attentionViewFromJSON } from '../../src/inference/view-json.js';
import { runQkv } from '../helpers/cli-process.js';
import { spell, trainLettersModel } from '../inference/letters-model.js';
import type { LettersModel } from '../inference/letters-model.js';

const scratch = mkdtempSync(join(tmpdir(), 'qkv-view-'));
let speller: LettersModel;

before(async () => {
  speller = await trainLettersModel(600);
});
after(() => rmSync(scratch, { recursive: true, force: true }));

test('qkv view serves the page, and the checkpoint (a run folder: its best/) at /checkpoint/, on 127.0.0.1 only', async () => {
  const { server, url } = await serveView({ port: 0, checkpoint: speller.dir });
  try {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /text\/html/);
    assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.match(await page.text(), /<script type="module" src="app.js">/);
    for (const asset of ['app.js', 'worker.js', 'style.css', 'viewer.html']) assert.equal((await fetch(url + asset)).status, 200, asset);
    const index = (await (await fetch(`${url}checkpoint/index.json`)).json()) as { source: string; files: string[] };
    assert.equal(index.source, join(speller.dir, 'best'));
    assert.deepEqual(index.files.sort(), ['config.json', 'model.safetensors', 'target_tokenizer.json', 'tokenizer.json']);
    const served = new Uint8Array(await (await fetch(`${url}checkpoint/model.safetensors`)).arrayBuffer());
    assert.deepEqual(served, new Uint8Array(readFileSync(join(speller.dir, 'best', 'model.safetensors'))));
    assert.equal((await fetch(`${url}checkpoint/optimizer.safetensors`)).status, 404);
    assert.equal((await fetch(`${url}../package.json`)).status, 404);
    assert.equal((await fetch(url, { method: 'POST', body: 'x' })).status, 405);
  } finally {
    server.close();
  }
});

test('qkv view refuses a folder that is not a checkpoint, naming it', async () => {
  const r = await runQkv(['view', join(scratch, 'nothing-here'), '--port', '0']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nothing-here: no such checkpoint or run folder/);
});

test('qkv attention --out writes one HTML file that holds the answer\'s view and loads nothing else', async () => {
  const out = join(scratch, 'view.html');
  const r = await runQkv(['attention', speller.dir, 'HELLO', '--num-beams', '2', '--out', out], 120_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /"HELLO" → "H E L L O"/);
  const html = readFileSync(out, 'utf8');
  assert.ok(!/<script[^>]+src=|<link[^>]+stylesheet/.test(html), 'no external script or style');
  const json = /<script type="application\/json" id="qkv-view-data">(.*?)<\/script>/s.exec(html);
  assert.ok(json, 'the view data is embedded');
  const view = attentionViewFromJSON(json[1]);
  assert.equal(view.output, spell('HELLO'));
  assert.equal(view.groups.length, 3);
  assert.equal(view.beams?.numBeams, 2);
});
