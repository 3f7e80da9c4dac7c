// pipeline() over encoder-decoder checkpoints: a trained speller answers exactly, the pipeline agrees with
// greedyDecode and beamSearch called directly, streams join to the answer, attention rows are softmaxes,
// loading from bytes equals loading from the folder, wrong tasks and kinds fail clearly, and a user's
// five-line .mjs script runs through tsx.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import { PipelineError, Rng, beamSearch, greedyDecode, tensor } from '../../src/node/index.js';
import type { AttentionMap, Tokenizer } from '../../src/node/index.js';
import type { Transformer } from '../../src/models/transformer.js';
import { pipeline as purePipeline } from '../../src/index.js'; // the browser's: files or a loaded checkpoint, no folders
import { loadPretrained, pipeline } from '../../src/node/pretrained.js';
import { LETTERS, randomWord, spell, trainLettersModel } from './letters-model.js';
import type { LettersModel } from './letters-model.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'qkv-infer-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

let speller: LettersModel;
/** The same model trained only 80 steps, under a custom task: right a fifth of the time, so its answers vary. */
let rough: LettersModel;
let randomDir: string;
let randomTok: { tokenizer: Tokenizer; targetTokenizer: Tokenizer };

before(async () => {
  speller = await trainLettersModel(800);
  rough = await trainLettersModel(80, 2, 'my-own-task');
  randomDir = join(rough.dir, 'best');
  randomTok = { tokenizer: rough.tokenizer, targetTokenizer: rough.targetTokenizer };
});

const heldOut = (n: number, seed: number): string[] => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => randomWord(rng));
};

test('a speller trained to 100% spells 100 held-out words exactly, through the g2p and text2text pipelines', async () => {
  const words = heldOut(100, 4242);
  const g2p = await pipeline('g2p', speller.dir); // a run folder: reads best/
  assert.deepEqual(await g2p(words), words.map(spell));
  // g2p reads words in any case (upper-cased, as CMUdict spells); one string in, one string out.
  assert.equal(await g2p('hello'), 'H E L L O');
  assert.equal(await g2p('World', { numBeams: 1 }), 'W O R L D');
  const t2t = await pipeline('text2text-generation', speller.dir, { numBeams: 3 });
  assert.deepEqual(await t2t(words.slice(0, 20)), words.slice(0, 20).map(spell));
  assert.equal(g2p.task, 'g2p');
  assert.equal(t2t.pretrained.task, 'g2p');
});

/** The source ids of a text as a [1, S] tensor. */
const srcIds = (tok: Tokenizer, text: string) => {
  const ids = tok.encode(text);
  return tensor(Int32Array.from(ids), { shape: [1, ids.length], dtype: 'int32' });
};

test('text2text-generation gives what greedyDecode and beamSearch give when called directly (a rough model, custom task)', async () => {
  const t2t = await pipeline('text2text-generation', randomDir);
  const model = t2t.pretrained.model as Transformer;
  const { bosId: bos, eosId: eos } = randomTok.targetTokenizer;
  const words = ['HELLO', 'W', 'DREW', 'ROLLED', 'OH'];
  // Words are decoded together: the default limit is text2text's rule, 2n + 10, for the longest of them.
  const batchLimit = 2 * Math.max(...words.map((w) => w.length)) + 10;
  for (const maxNewTokens of [undefined, 5]) {
    for (const numBeams of [1, 3]) {
      const got = await t2t(words, { numBeams, maxNewTokens, lengthPenalty: 0.6 });
      const want = words.map((w) => {
        const src = srcIds(randomTok.tokenizer, w);
        const maxLen = maxNewTokens ?? batchLimit;
        const ids = numBeams === 1
          ? greedyDecode(model, src, { bos, eos, maxLen })[0]
          : beamSearch(model, src, { bos, eos, maxLen, beamSize: numBeams, lengthPenalty: 0.6 })[0][0].tokens;
        return randomTok.targetTokenizer.decode(ids, { skipSpecial: true });
      });
      assert.deepEqual(got, want, `numBeams ${numBeams}, maxNewTokens ${maxNewTokens}`);
    }
  }
  // The rough model's answers are not trivial: they differ between words, and some are wrong.
  const answers = await t2t(words, { numBeams: 1 });
  assert.ok(new Set(answers).size === words.length && answers.some((a, i) => a !== spell(words[i])), JSON.stringify(answers));
});

test('streaming: greedy pieces arrive one per token and join to the answer; beam search yields the answer once', async () => {
  const g2p = await pipeline('g2p', speller.dir);
  const pieces: string[] = [];
  for await (const piece of g2p.stream('hello', { numBeams: 1 })) pieces.push(piece);
  assert.deepEqual(pieces, ['H', ' E', ' L', ' L', ' O']);
  const t2t = await pipeline('text2text-generation', randomDir);
  for (const word of ['HELLO', 'DREW', 'W']) {
    const greedy: string[] = [];
    for await (const piece of t2t.stream(word, { numBeams: 1 })) greedy.push(piece);
    assert.equal(greedy.join(''), await t2t(word, { numBeams: 1 }));
    const beams: string[] = [];
    for await (const piece of t2t.stream(word, { numBeams: 3 })) beams.push(piece);
    assert.deepEqual(beams, [await t2t(word, { numBeams: 3 })]);
  }
  // Stopping early is allowed: the loop breaks, the generator closes.
  for await (const piece of t2t.stream('HELLO', { numBeams: 1 })) { assert.ok(piece.length > 0); break; }
});

/** Every row (b, h, t, ·) of a map sums to 1. */
function assertRowsSumToOne(m: AttentionMap, what: string): void {
  const [B, H, T, S] = m.shape;
  assert.equal(m.data.length, B * H * T * S, `${what}: data length`);
  for (let r = 0; r < B * H * T; r++) {
    let sum = 0;
    for (let s = 0; s < S; s++) {
      const w = m.data[r * S + s];
      assert.ok(w >= 0 && w <= 1, `${what}: weight ${w}`);
      sum += w;
    }
    assert.ok(Math.abs(sum - 1) < 1e-5, `${what}: row ${r} sums to ${sum}`);
  }
  // The scores before the softmax: each row's softmax is the row of weights, and a weight of exactly 0 is a −Infinity score.
  assert.ok(m.scores, `${what}: scores`);
  for (let r = 0; r < B * H * T; r++) {
    const row = Array.from(m.scores!.subarray(r * S, (r + 1) * S));
    const max = Math.max(...row);
    const exps = row.map((s) => Math.exp(s - max));
    const z = exps.reduce((a, b) => a + b, 0);
    for (let s = 0; s < S; s++) {
      assert.ok(Math.abs(exps[s] / z - m.data[r * S + s]) < 1e-5, `${what}: softmax of row ${r}'s scores`);
      if (m.data[r * S + s] === 0) assert.equal(m.scores![r * S + s], -Infinity, `${what}: masked score`);
    }
  }
}

test('outputAttentions: every layer\'s per-head maps [1, H, T, S], rows summing to 1, with the tokens of each axis', async () => {
  const g2p = await pipeline('g2p', speller.dir);
  const { dModel: _d, heads: H, encoderLayers, decoderLayers } = (g2p.pretrained.model as Transformer).config;
  const out = await g2p('HELLO', { outputAttentions: true });
  assert.equal(out.text, 'H E L L O');
  const a = out.attentions;
  assert.deepEqual(a.sourceTokens, ['H', 'E', 'L', 'L', 'O']);
  // Six tokens were chosen (H E L L O </s>): the decoder read <s> H E L L O.
  assert.deepEqual(a.targetTokens, ['<s>', 'H', 'E', 'L', 'L', 'O']);
  assert.equal(a.encoderSelfAttentions.length, encoderLayers);
  assert.equal(a.decoderSelfAttentions.length, decoderLayers);
  assert.equal(a.crossAttentions.length, decoderLayers);
  for (const m of a.encoderSelfAttentions) { assert.deepEqual(m.shape, [1, H, 5, 5]); assertRowsSumToOne(m, 'encoder'); }
  for (const m of a.crossAttentions) { assert.deepEqual(m.shape, [1, H, 6, 5]); assertRowsSumToOne(m, 'cross'); }
  for (const m of a.decoderSelfAttentions) {
    assert.deepEqual(m.shape, [1, H, 6, 6]);
    assertRowsSumToOne(m, 'decoder');
    for (let h = 0; h < H; h++) for (let t = 0; t < 6; t++) for (let s = t + 1; s < 6; s++) assert.equal(m.data[(h * 6 + t) * 6 + s], 0, 'causal');
  }
  // Cut short by maxNewTokens: three tokens chosen (H E L), no </s>, so the decoder read <s> H E.
  const cut = await g2p('HELLO', { outputAttentions: true, maxNewTokens: 3 });
  assert.equal(cut.text, 'H E L');
  assert.deepEqual(cut.attentions.targetTokens, ['<s>', 'H', 'E']);
  for (const m of cut.attentions.crossAttentions) assert.deepEqual(m.shape, [1, H, 3, 5]);
  // An array in, an array of { text, attentions } out.
  const many = await g2p(['OW', 'DEW'], { outputAttentions: true, numBeams: 1 });
  assert.deepEqual(many.map((m) => m.text), ['O W', 'D E W']);
  assert.deepEqual(many[1].attentions.crossAttentions[0].shape, [1, H, 4, 3]);
});

test('loadPretrained from the files as bytes (or text) equals loadPretrained from the folder', async () => {
  const dir = join(speller.dir, 'best');
  const files: Record<string, Uint8Array | string> = {};
  for (const name of readdirSync(dir)) files[name] = new Uint8Array(readFileSync(join(dir, name)));
  files['tokenizer.json'] = readFileSync(join(dir, 'tokenizer.json'), 'utf8');
  const fromBytes = await loadPretrained(files, { source: 'fetched' });
  const fromDir = await loadPretrained(speller.dir);
  assert.equal(fromDir.source, dir);
  assert.equal(fromBytes.source, 'fetched');
  for (const p of [fromBytes, fromDir]) {
    assert.equal(p.kind, 'transformer');
    assert.equal(p.task, 'g2p');
  }
  assert.deepEqual(fromBytes.config, fromDir.config);
  assert.deepEqual(fromBytes.tokenizer.toJSON(), speller.tokenizer.toJSON());
  assert.deepEqual(fromBytes.targetTokenizer.toJSON(), fromDir.targetTokenizer.toJSON());
  assert.notEqual(fromBytes.targetTokenizer, fromBytes.tokenizer);
  const a = fromBytes.model.stateDict();
  const b = fromDir.model.stateDict();
  const c = speller.model.stateDict();
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [name, t] of a) {
    assert.deepEqual(Array.from(t.toArray()), Array.from(b.get(name)!.toArray()), name);
    assert.deepEqual(Array.from(t.toArray()), Array.from(c.get(name)!.toArray()), `${name} as trained`);
  }
  // The browser's pipeline takes the files as they are.
  const g2p = await purePipeline('g2p', files);
  assert.equal(await g2p('WORLD'), 'W O R L D');
});

test('a run folder resolves to best/, else last/; a folder without a checkpoint is a clear error', async () => {
  const run = join(scratch, 'run-last-only');
  mkdirSync(run);
  cpSync(join(speller.dir, 'best'), join(run, 'last'), { recursive: true });
  assert.equal((await loadPretrained(run)).source, join(run, 'last'));
  cpSync(randomDir, join(run, 'best'), { recursive: true });
  const p = await loadPretrained(run);
  assert.equal(p.source, join(run, 'best'));
  assert.equal(p.task, 'my-own-task');
  const empty = join(scratch, 'empty');
  mkdirSync(empty);
  await assert.rejects(loadPretrained(empty), /empty: not a checkpoint \(no config\.json\)/);
  await assert.rejects(loadPretrained(join(scratch, 'nowhere')), /nowhere: no such checkpoint folder/);
});

test('errors name the task and the checkpoint: unknown task, wrong kind, wrong training task, unknown option, a path in the browser', async () => {
  await assert.rejects(pipeline('summarization', speller.dir), (e: Error) => {
    assert.ok(e instanceof PipelineError);
    assert.match(e.message, /unknown task "summarization" for checkpoint .*qkv-letters-/);
    assert.match(e.message, /expected one of g2p, translation \(alias translate\), text2text-generation, text-generation \(alias generate\)/);
    return true;
  });
  await assert.rejects(pipeline('text-generation', speller.dir), /pipeline\('text-generation'\): .*best holds a 'transformer' model \(task 'g2p'\), expected a decoder-only 'gpt' checkpoint/);
  await assert.rejects(pipeline('translate', speller.dir), /pipeline\('translation'\): .*best: trained on task 'g2p', expected a translate checkpoint/);
  await assert.rejects(pipeline('g2p', randomDir), /pipeline\('g2p'\): .*best: trained on task 'my-own-task', expected a g2p checkpoint; pipeline\('text2text-generation'\) takes any encoder-decoder/);
  const g2p = await pipeline('g2p', speller.dir);
  await assert.rejects(g2p('HELLO', { num_beams: 2 } as never), /pipeline\('g2p'\): unknown option 'num_beams', expected one of numBeams, lengthPenalty, maxNewTokens, outputAttentions/);
  await assert.rejects(g2p('HELLO', { numBeams: 0 }), /numBeams is 0, expected an integer ≥ 1/);
  await assert.rejects(g2p(42 as never), /input is number, expected a string or an array of strings/);
  await assert.rejects(purePipeline('g2p', speller.dir as never), /a folder needs qkv's Node entry/);
});

test('a five-line .mjs script (examples/pipeline.mjs) pronounces through tsx', async () => {
  const run = (word: string) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'examples', 'pipeline.mjs'), speller.dir, word], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
  const r = await run('hello');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'H E L L O\n');
  assert.ok(LETTERS.includes('W'));
});
