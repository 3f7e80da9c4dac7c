// Your own data through the CLI's main(), in-process (a worker thread of the test): qkv train seq2seq / lm --train on the committed
// fixtures, then info, eval, seq2seq and generate on what they saved; checkpoints of custom tasks;
// fine-tuning with --init-from (the checkpoint's weights, mismatch errors, --resize-vocab).

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCliThread } from '../helpers/cli-thread.js';
import type { Ran } from '../helpers/cli-thread.js';
import { loadCheckpoint } from '../../src/node/checkpoint.js';
import { checkpointSaver } from '../../src/node/checkpoint.js';
import { CharTokenizer, GPT, Rng, Trainer, Transformer, crossEntropy, lmBatches } from '../../src/index.js';
import type { Module, TransformerConfig } from '../../src/index.js';
import { skipCmudict } from '../data/available.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/user-data/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-own-'));
const cli = startCliThread({ QKV_THREADS: '1' });
after(async () => {
  await cli.close();
  rmSync(dir, { recursive: true, force: true });
});
const qkv = (...args: string[]): Promise<Ran> => cli.run(...args);

/** One line `qkv: ...` on stderr matching `pattern`, and the exit code. */
function assertError(r: Ran, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('qkv: '));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
}

/** The documented hold-out rule, written out again here: FNV-1a of the UTF-8 bytes, bucket % 10000 < 500. */
function heldOut(key: string): boolean {
  let h = 2166136261;
  for (const b of new TextEncoder().encode(key)) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h % 10000 < 500;
}

const PAIRS = readFileSync(fixture('pairs.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
const TRAIN = PAIRS.filter(([s]) => !heldOut(s));
const VALID_SOURCES = new Set(PAIRS.filter(([s]) => heldOut(s)).map(([s]) => s));

/** The tiny seq2seq run on pairs.tsv that several tests start from (trained once). */
let base: Promise<string> | null = null;
function baseRun(): Promise<string> {
  base ??= (async () => {
    const out = join(dir, 'pairs-run');
    const r = await qkv('train', 'seq2seq', '--train', fixture('pairs.tsv'), '--preset', 'tiny', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    return out;
  })();
  return base;
}

/** Every value of the two models' state, name by name: the largest absolute difference. */
function maxDifference(a: Module, b: Module, skip: (name: string) => boolean = () => false): number {
  let worst = 0;
  for (const [name, t] of a.stateDict()) {
    if (skip(name)) continue;
    const x = t.toArray();
    const y = b.stateDict().get(name)!.toArray();
    assert.equal(x.length, y.length, name);
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  }
  return worst;
}

test('qkv train seq2seq --train pairs.tsv --preset tiny: a checkpoint that qkv info, eval and seq2seq accept', async () => {
  const run = await baseRun();
  assert.equal(VALID_SOURCES.size, 4);
  const cfg = JSON.parse(readFileSync(join(run, 'last', 'config.json'), 'utf8'));
  assert.equal(cfg.task.name, 'seq2seq');
  assert.equal(cfg.task.options.train, fixture('pairs.tsv'), 'the checkpoint records the absolute path');
  assert.equal(cfg.task.options.valid, null);

  const info = await qkv('info', run);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /^task +seq2seq \(preset tiny\)$/m);
  assert.match(info.stdout, new RegExp(`^data +train ${fixture('pairs.tsv')}, valid held out by hash$`, 'm'));
  // Tokenizers learned on the training split only: 4 specials + the characters of its sources / targets.
  const chars = (texts: string[]) => new Set(texts.flatMap((t) => [...t])).size + 4;
  const srcVocab = chars(TRAIN.map(([s]) => s));
  const tgtVocab = chars(TRAIN.map(([, t]) => t));
  assert.match(info.stdout, new RegExp(`^tokenizer +source CharTokenizer \\(${srcVocab} tokens\\), target CharTokenizer \\(${tgtVocab} tokens\\)$`, 'm'));
  assert.match(info.stdout, /^trained +step 12, /m);

  const evald = await qkv('eval', run);
  assert.equal(evald.code, 0, evald.stderr);
  assert.match(evald.stdout, /^seq2seq on the valid split, beam 4: /);
  for (const m of ['exactMatch', 'cer', 'bleu', 'chrf']) assert.match(evald.stdout, new RegExp(`^${m} +\\d`, 'm'));
  assert.match(evald.stdout, new RegExp(`^sources +${VALID_SOURCES.size}$`, 'm'));

  const other = await qkv('eval', join(run, 'last'), '--file', fixture('valid.tsv'), '--beam', '2', '--limit', '5');
  assert.equal(other.code, 0, other.stderr);
  assert.match(other.stdout, /^seq2seq on .*valid\.tsv \(limit 5\), beam 2: /);
  assert.match(other.stdout, /^sources +5$/m);

  const decoded = await qkv('seq2seq', run, 'cat', 'window', '--beam', '2');
  assert.equal(decoded.code, 0, decoded.stderr);
  const lines = decoded.stdout.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 2);
  const targetChars = new Set(TRAIN.flatMap(([, t]) => [...t]));
  for (const l of lines) for (const ch of l) assert.ok(targetChars.has(ch), `${JSON.stringify(ch)} is not a character of the targets`);

  assertError(await qkv('eval', run, '--split', 'test'), 1, /split 'test': a seq2seq run .* has only a valid split, expected --split valid or --file FILE/);
  assertError(await qkv('generate', run, '--prompt', 'x'), 1, /holds a 'transformer' model \(task 'seq2seq'\), expected a decoder-only 'gpt' checkpoint/);
});

test('a config file: paths relative to its folder, recorded absolute; JSONL pairs; symbol targets; bad rows stop the run or are counted', async () => {
  const data = join(dir, 'cfg', 'data');
  mkdirSync(data, { recursive: true });
  cpSync(fixture('pairs.jsonl'), join(data, 'p.jsonl'));
  cpSync(fixture('valid.tsv'), join(data, 'v.tsv'));
  const cfgPath = join(dir, 'cfg', 'run.json');
  writeFileSync(cfgPath, JSON.stringify({ task: 'seq2seq', preset: 'tiny', train: 'data/p.jsonl', valid: 'data/v.tsv', targetTokenizer: 'symbol', maxSteps: 2 }));
  const out = join(dir, 'cfg-run');
  const r = await qkv('train', cfgPath, '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /seq2seq \(.*p\.jsonl\): 20 training pairs, 6 valid pairs \(valid .*v\.tsv\)/);
  const cfg = JSON.parse(readFileSync(join(out, 'last', 'config.json'), 'utf8'));
  assert.equal(cfg.task.options.train, join(data, 'p.jsonl'));
  assert.equal(cfg.task.options.valid, join(data, 'v.tsv'));
  const symbols = new Set(PAIRS.slice(0, 20).flatMap(([, t]) => t.split(' ')));
  assert.match((await qkv('info', out)).stdout, new RegExp(`target SymbolTokenizer \\(${symbols.size + 4} tokens\\)`));

  const bad = ['train', 'seq2seq', '--train', fixture('bad.tsv'), '--valid', fixture('valid.tsv'), '--preset', 'tiny', '--steps', '1'];
  assertError(await qkv(...bad, '--out', join(dir, 'bad-1')), 1, /bad\.tsv:2: missing tab, expected source<TAB>target; pass --skip-bad-rows/);
  const skipped = await qkv(...bad, '--skip-bad-rows', '--out', join(dir, 'bad-2'));
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.match(skipped.stderr, /^skipped 4 bad rows \(first: .*bad\.tsv:2: missing tab, expected source<TAB>target\)$/m);
  assert.match(skipped.stderr, /: 2 training pairs, 6 valid pairs/);

  assertError(await qkv('train', 'seq2seq', '--preset', 'tiny'), 2, /task seq2seq trains on your own pairs, expected --train pairs\.tsv/);
  assertError(await qkv('train', 'g2p', '--train', fixture('pairs.tsv')), 2, /--train: task g2p trains on its packaged dataset; your own pairs go with task seq2seq/);
  assertError(await qkv('train', 'seq2seq', '--train', join(dir, 'nowhere.tsv'), '--preset', 'tiny', '--out', join(dir, 'nowhere')), 1, /nowhere\.tsv: no such file/);
  writeFileSync(join(dir, 'share.json'), JSON.stringify({ task: 'seq2seq', train: 'x.tsv', validShare: 1.5 }));
  assertError(await qkv('train', join(dir, 'share.json')), 1, /config field 'validShare' is 1\.5, expected a number in \(0, 1\)/);
  writeFileSync(join(dir, 'kind.json'), JSON.stringify({ task: 'seq2seq', train: 'x.tsv', sourceTokenizer: 'word' }));
  assertError(await qkv('train', join(dir, 'kind.json')), 1, /config field 'sourceTokenizer' is "word", expected one of 'char', 'symbol', 'bpe'/);
});

test('qkv train lm --train text.txt --preset tiny, then qkv generate and qkv eval; JSON Lines documents', async () => {
  const out = join(dir, 'lm-run');
  const r = await qkv('train', 'lm', '--train', fixture('text.txt'), '--preset', 'tiny', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  // Line groups are the paragraphs (each ends with its blank line; the last with the file's end).
  const paras = readFileSync(fixture('text.txt'), 'utf8').trim().split('\n\n');
  const groups = paras.map((p, i) => p + (i < paras.length - 1 ? '\n\n' : '\n'));
  const held = groups.filter(heldOut).length;
  assert.ok(held >= 1);
  assert.match(r.stderr, new RegExp(`^lm \\(.*text\\.txt, ${held} of ${groups.length} line groups held out\\): \\d+ training tokens`, 'm'));
  assert.match(r.stdout, /^step 10 .*\| validLoss \d.* perplexity .* bpc /m);

  const gen = await qkv('generate', out, '--prompt', 'The peace', '--tokens', '12', '--seed', '3');
  assert.equal(gen.code, 0, gen.stderr);
  assert.ok(gen.stdout.startsWith('The peace'), gen.stdout);
  assert.ok(gen.stdout.length > 'The peace\n'.length);

  const evald = await qkv('eval', out);
  assert.equal(evald.code, 0, evald.stderr);
  assert.match(evald.stdout, /^lm on the valid split: /);
  assert.match(evald.stdout, /^bpc +\d/m);
  const docs = await qkv('eval', out, '--file', fixture('docs.jsonl'));
  assert.equal(docs.code, 0, docs.stderr);
  assert.match(docs.stdout, /^lm on .*docs\.jsonl: /);

  const jsonl = await qkv('train', 'lm', '--train', fixture('docs.jsonl'), '--valid', fixture('text.txt'), '--preset', 'tiny', '--steps', '2', '--out', join(dir, 'lm-docs'));
  assert.equal(jsonl.code, 0, jsonl.stderr);
  assert.match(jsonl.stderr, /^lm \(.*docs\.jsonl, valid .*text\.txt\)/m);
  assertError(await qkv('train', 'lm', '--train', fixture('bad-docs.jsonl'), '--valid', fixture('text.txt'), '--preset', 'tiny', '--out', join(dir, 'lm-bad')), 1, /bad-docs\.jsonl:2: field "text" is number 3, expected a string/);
});

test('a checkpoint saved with a custom task name loads: info, seq2seq, and eval, which asks for --file', async () => {
  const run = await baseRun();
  const custom = join(dir, 'custom');
  cpSync(join(run, 'best'), custom, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(custom, 'config.json'), 'utf8'));
  cfg.task.name = 'my-g2p';
  writeFileSync(join(custom, 'config.json'), JSON.stringify(cfg));
  const info = await qkv('info', custom);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /^task +my-g2p \(a custom task: qkv eval needs --file\)$/m);
  const dec = await qkv('seq2seq', custom, 'cat');
  assert.equal(dec.code, 0, dec.stderr);
  assert.equal(dec.stdout.split('\n').filter((l) => l).length, 1);
  // g2p and translate answer with their task's rules, so they take only checkpoints of their task.
  assertError(await qkv('g2p', custom, 'cat'), 1, /trained on task 'my-g2p', expected a g2p checkpoint; pipeline\('text2text-generation'\) takes any encoder-decoder/);
  assertError(await qkv('translate', custom, 'cat'), 1, /trained on task 'my-g2p', expected a translate checkpoint/);
  assertError(await qkv('eval', custom), 1, /trained on task 'my-g2p', whose data qkv eval does not know; pass --file with a file of pairs/);
  const scored = await qkv('eval', custom, '--file', fixture('pairs.jsonl'), '--limit', '3');
  assert.equal(scored.code, 0, scored.stderr);
  assert.match(scored.stdout, /^my-g2p on .*pairs\.jsonl \(limit 3\), beam 4: /);
  assert.match(scored.stdout, /^sources +3$/m);
});

test('a GPT trained by the library Trainer with a custom task loads in the CLI: info, generate, eval --file', async () => {
  const tok = CharTokenizer.fromCorpus([readFileSync(fixture('text.txt'), 'utf8')]);
  const ids = tok.encode(readFileSync(fixture('text.txt'), 'utf8'));
  const model = new GPT({ vocab: tok.vocabSize, dModel: 16, heads: 2, layers: 1, context: 16, seed: 2 });
  const root = join(dir, 'library-gpt');
  const trainer = new Trainer(model, {
    name: 'poems',
    options: { note: 'trained by a script' },
    batches: (_e, rng: Rng) => lmBatches(ids, { context: 16, batchSize: 8, rng }),
    loss: (m, b) => ({ loss: crossEntropy(m.forward(b.input).logits.reshape([-1, tok.vocabSize]), b.target.reshape([-1])), tokens: b.target.size }),
  }, { maxSteps: 2, warmup: 2, save: checkpointSaver(root, { modelKind: 'gpt', modelConfig: model.config, tokenizer: tok }) });
  await trainer.run();
  const info = await qkv('info', root);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /^task +poems \(a custom task: qkv eval needs --file\)$/m);
  assert.match(info.stdout, /^model +gpt: vocab \d+, dModel 16/m);
  const gen = await qkv('generate', root, '--prompt', 'peace', '--tokens', '5', '--temperature', '0');
  assert.equal(gen.code, 0, gen.stderr);
  assert.ok(gen.stdout.startsWith('peace'));
  const scored = await qkv('eval', root, '--file', fixture('text.txt'));
  assert.equal(scored.code, 0, scored.stderr);
  assert.match(scored.stdout, /^perplexity +/m);
  assertError(await qkv('seq2seq', root, 'x'), 1, /holds a 'gpt' model \(task 'poems'\), expected an encoder-decoder 'transformer' checkpoint/);
});

test('--init-from: the run starts from the checkpoint\'s weights; a vocabulary or model-kind mismatch is an error naming both sides', async () => {
  const run = await baseRun();
  // A learning rate of ~1e-32 leaves the weights as they start (Adam's steps are at most a few times the rate).
  const cfg = join(dir, 'ft.json');
  writeFileSync(cfg, JSON.stringify({ task: 'seq2seq', preset: 'tiny', lrFactor: 1e-30, maxSteps: 1 }));
  const out = join(dir, 'ft-same');
  const r = await qkv('train', cfg, '--train', fixture('pairs.tsv'), '--init-from', run, '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`^fine-tuning from ${run}/best \\(transformer, task 'seq2seq', step 12\\)`, 'm'));
  assert.match(r.stderr, /^model from the checkpoint, not the preset: dModel 32, heads 2/m);
  const src = await loadCheckpoint(join(run, 'best'));
  const ft = await loadCheckpoint(join(out, 'last'));
  assert.equal(ft.trainerState!.step, 1, 'a new run, from step 0');
  assert.ok(maxDifference(src.model, ft.model) < 1e-20, 'the weights are the checkpoint\'s');
  const fresh = new Transformer(ft.config.model as unknown as TransformerConfig);
  assert.ok(maxDifference(fresh, ft.model) > 0.01, 'and not a fresh initialisation');

  const grow = ['train', cfg, '--train', fixture('new-chars.tsv'), '--valid', fixture('valid.tsv'), '--init-from', run];
  assertError(await qkv(...grow, '--out', join(dir, 'ft-no')), 1,
    new RegExp(`${run}/best: its source tokenizer \\(CharTokenizer, \\d+ tokens\\) has no token for 6 characters of .*new-chars\\.tsv: "-", "ç", "é", "ï", "ñ", "ü"; .*--resize-vocab`));
  assertError(await qkv('train', 'lm', '--train', fixture('text.txt'), '--init-from', run, '--out', join(dir, 'ft-lm')), 1,
    /a transformer model \(an encoder-decoder, task 'seq2seq'\), but task lm trains a gpt \(a decoder-only language model\)/);
  assertError(await qkv('train', 'seq2seq', '--train', fixture('pairs.tsv'), '--resize-vocab'), 2, /--resize-vocab .* expected --init-from too/);
});

test('--resize-vocab: the tokenizer keeps its ids and appends the new characters; old embedding rows kept, new rows as a fresh model\'s', async () => {
  const run = await baseRun();
  const cfg = join(dir, 'ft.json');
  writeFileSync(cfg, JSON.stringify({ task: 'seq2seq', preset: 'tiny', lrFactor: 1e-30, maxSteps: 1 }));
  const out = join(dir, 'ft-grown');
  const r = await qkv('train', cfg, '--train', fixture('new-chars.tsv'), '--valid', fixture('valid.tsv'), '--init-from', run, '--resize-vocab', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const src = await loadCheckpoint(join(run, 'best'));
  const ft = await loadCheckpoint(join(out, 'last'));
  const V = src.tokenizer!.vocabSize;
  // The new characters: those of new-chars.tsv's sources that no training source of pairs.tsv has, sorted.
  const had = new Set(TRAIN.flatMap(([s]) => [...s]));
  const sources = readFileSync(fixture('new-chars.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t')[0]);
  const added = [...new Set(sources.flatMap((s) => [...s]))].filter((c) => !had.has(c)).sort();
  assert.equal(ft.tokenizer!.vocabSize, V + added.length);
  for (let id = 0; id < V; id++) assert.equal(ft.tokenizer!.idToToken(id), src.tokenizer!.idToToken(id));
  assert.deepEqual(added.map((_, i) => ft.tokenizer!.idToToken(V + i)), added);
  assert.equal(ft.targetTokenizer!.vocabSize, src.targetTokenizer!.vocabSize, 'the targets needed nothing new');
  assert.match(r.stderr, new RegExp(`^--resize-vocab: source vocabulary ${V} → ${V + added.length} tokens`, 'm'));
  assert.match(r.stderr, new RegExp(`^--resize-vocab: src_embed\\.weight: ${V} → ${V + added.length} rows`, 'm'));

  const D = 32;
  const emb = Array.from(ft.model.stateDict().get('src_embed.weight')!.toArray());
  const old = Array.from(src.model.stateDict().get('src_embed.weight')!.toArray());
  assert.equal(emb.length, (V + added.length) * D);
  const close = (a: number[], b: number[]) => a.every((x, i) => Math.abs(x - b[i]) < 1e-20);
  assert.ok(close(emb.slice(0, V * D), old), 'old rows kept');
  const freshRows = Array.from(new Transformer(ft.config.model as unknown as TransformerConfig).stateDict().get('src_embed.weight')!.toArray()).slice(V * D);
  assert.ok(close(emb.slice(V * D), freshRows), 'new rows as a fresh model of the new size initialises them');
  assert.ok(maxDifference(src.model, ft.model, (n) => n === 'src_embed.weight') < 1e-20, 'every other weight is the checkpoint\'s');
});

test('--init-from works for lm (GPT) and g2p (the packaged dataset)', { skip: skipCmudict }, async () => {
  const lm = join(dir, 'lm-src');
  assert.equal((await qkv('train', 'lm', '--train', fixture('text.txt'), '--preset', 'tiny', '--steps', '2', '--out', lm)).code, 0);
  const cfg = join(dir, 'ft-lm.json');
  writeFileSync(cfg, JSON.stringify({ task: 'lm', preset: 'tiny', lrFactor: 1e-30, maxSteps: 1 }));
  const r = await qkv('train', cfg, '--train', fixture('docs.jsonl'), '--valid', fixture('text.txt'), '--init-from', lm, '--out', join(dir, 'lm-ft'));
  assert.equal(r.code, 0, r.stderr);
  const a = await loadCheckpoint(join(lm, 'last'), { build: (c) => new GPT(c as never) });
  const b = await loadCheckpoint(join(dir, 'lm-ft', 'last'), { build: (c) => new GPT(c as never) });
  assert.ok(maxDifference(a.model, b.model) < 1e-20);
  assert.equal(JSON.stringify(b.tokenizer!.toJSON()), JSON.stringify(a.tokenizer!.toJSON()), 'byte-level BPE: the tokenizer as it was');

  const g2p = join(dir, 'g2p-src');
  assert.equal((await qkv('train', 'g2p', '--preset', 'tiny', '--steps', '1', '--out', g2p)).code, 0);
  const again = await qkv('train', 'g2p', '--preset', 'tiny', '--steps', '1', '--init-from', g2p, '--out', join(dir, 'g2p-ft'));
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /^fine-tuning from .*g2p-src\/best \(transformer, task 'g2p', step 1\)/m);
});
