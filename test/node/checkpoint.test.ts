// Checkpoint folders: round trips, atomic replacement (a failed or killed save leaves the previous
// checkpoint), and one clear error per kind of damage.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  Adam, CharTokenizer, CheckpointError, GPT, PAPER_ADAM, QKV_VERSION, SymbolTokenizer, Trainer, Transformer, crossEntropy, serializeSafetensors, tensor,
} from '../../src/index.js';
import type { CheckpointParts, Tokenizer } from '../../src/index.js';
import { DIR_MANIFEST } from '../../src/node/atomic-write.js';
import { loadCheckpoint, readCheckpointDir, saveCheckpoint } from '../../src/node/checkpoint.js';

const root = mkdtempSync(join(tmpdir(), 'qkv-ckpt-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(root, `case-${n++}`);

const CONFIG = { srcVocab: 12, tgtVocab: 12, dModel: 8, heads: 2, dFF: 16, encoderLayers: 1, decoderLayers: 1, dropout: 0.1, seed: 4 };

/** A model trained 2 steps (so the optimizer has buffers and the dropout Rng has moved), with its trainer. */
function trained(config: object = CONFIG): { model: Transformer; trainer: Trainer<Transformer, number> } {
  const model = new Transformer({ ...CONFIG, ...config });
  const ids = tensor([[1, 4, 5, 6]], { dtype: 'int32' });
  const trainer = new Trainer(model, {
    name: 'toy', options: { rows: 1 },
    *batches() { yield 0; yield 1; },
    loss: (m) => ({ loss: crossEntropy(m.forward(ids, ids).logits.reshape([-1, 12]), ids.reshape([-1])), tokens: 4 }),
  }, { maxSteps: 2, warmup: 2 });
  return { model, trainer };
}

async function parts(config: object = CONFIG, tokenizers: { tokenizer?: Tokenizer; targetTokenizer?: Tokenizer } = {}): Promise<CheckpointParts> {
  const { model, trainer } = trained(config);
  await trainer.run();
  return { modelKind: 'transformer', modelConfig: model.config, model, task: { name: 'toy', options: { rows: 1 } }, optimizer: trainer.optimizer, trainerState: trainer.state(), ...tokenizers };
}

test('round trip: weights (tied ones under each name), both tokenizers, optimizer and trainer state come back equal', async () => {
  const dir = fresh();
  const src = CharTokenizer.fromCorpus(['hello world']);
  const tgt = SymbolTokenizer.fromCorpus(['HH AH0 L OW1 W ER1 D K']); // 12 tokens, as the model's vocabularies (loading checks)
  const p = await parts({ shareEmbeddings: true }, { tokenizer: src, targetTokenizer: tgt });
  await saveCheckpoint(dir, p);
  assert.deepEqual(readdirSync(dir).sort(), [DIR_MANIFEST, 'config.json', 'model.safetensors', 'optimizer.safetensors', 'target_tokenizer.json', 'tokenizer.json', 'trainer_state.json']);

  const ck = await loadCheckpoint<Transformer>(dir, { kind: 'transformer' });
  const want = p.model.stateDict();
  assert.deepEqual([...ck.model.stateDict().keys()], [...want.keys()]);
  for (const [name, t] of ck.model.stateDict()) assert.deepEqual(t.toArray(), want.get(name)!.toArray(), name);
  assert.ok(ck.modelState.has('tgt_embed.weight') && ck.modelState.has('generator.weight'), 'tied weight listed under each name');
  assert.equal(ck.model.srcEmbed.weight, ck.model.generator.weight, 'the rebuilt model ties them again');
  assert.deepEqual(ck.model.config, (p.model as Transformer).config);

  for (const s of ['hello', 'world  lo']) assert.deepEqual(ck.tokenizer!.encode(s, { addSpecial: true }), src.encode(s, { addSpecial: true }));
  assert.deepEqual(ck.targetTokenizer!.encode('L OW1 HH'), tgt.encode('L OW1 HH'));
  assert.equal(ck.targetTokenizer!.decode(tgt.encode('AH0 L')), 'AH0 L');

  const opt = p.optimizer!.stateDict();
  assert.equal(ck.optimizerState!.step, 2);
  assert.deepEqual([...ck.optimizerState!.tensors.keys()].sort(), [...opt.tensors.keys()].sort());
  for (const [k, t] of opt.tensors) assert.deepEqual(ck.optimizerState!.tensors.get(k)!.toArray(), t.toArray(), k);
  assert.deepEqual(ck.trainerState, p.trainerState); // NaN (no spare normal) survives as NaN
  assert.deepEqual(ck.config.task, { name: 'toy', options: { rows: 1 } });
});

test('one tokenizer for both sides: no target_tokenizer.json, and targetTokenizer is tokenizer', async () => {
  const dir = fresh();
  const tok = CharTokenizer.fromCorpus(['abc']);
  await saveCheckpoint(dir, { ...(await parts()), tokenizer: tok, targetTokenizer: tok, optimizer: null, trainerState: null });
  assert.deepEqual(readdirSync(dir).sort(), [DIR_MANIFEST, 'config.json', 'model.safetensors', 'tokenizer.json']);
  const ck = await readCheckpointDir(dir);
  assert.equal(ck.targetTokenizer, ck.tokenizer);
  assert.equal(ck.optimizerState, null);
  assert.equal(ck.trainerState, null);
});

test('round trip of a GPT (tied head): same weights, same logits; an unknown kind is an error', async () => {
  const dir = fresh();
  const model = new GPT({ vocab: 10, dModel: 8, heads: 2, layers: 1, context: 16, seed: 2 });
  await saveCheckpoint(dir, { modelKind: 'gpt', modelConfig: model.config, model });
  const ck = await loadCheckpoint<GPT>(dir, { kind: 'gpt' });
  const ids = tensor([[1, 7, 3, 9]], { dtype: 'int32' });
  model.eval();
  ck.model.eval();
  assert.deepEqual(ck.model.forward(ids).logits.toArray(), model.forward(ids).logits.toArray());
  assert.deepEqual(ck.model.config, model.config);
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...c, modelKind: 'roberta' }));
  await assert.rejects(loadCheckpoint(dir), /config\.json: modelKind is "roberta", which qkv cannot build, expected one of "transformer", "lstm-seq2seq", "gpt", "bert"/);
});

test("config.json records the format, qkv's version (package.json's), the model kind and config, without the backend", async () => {
  const dir = fresh();
  await saveCheckpoint(dir, await parts());
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal(QKV_VERSION, pkg.version);
  assert.equal(c.qkvVersion, pkg.version);
  assert.equal(c.format, 'qkv-checkpoint');
  assert.equal(c.modelKind, 'transformer');
  assert.equal(c.model.dModel, 8);
  assert.equal(c.model.activation, 'relu');
  assert.ok(!('backend' in c.model));
});

/** Every file of a checkpoint folder, for comparing before and after. */
const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));

test('atomic: when the swap into place fails, the previous checkpoint is left whole and no temporaries remain', async () => {
  const dir = fresh();
  await saveCheckpoint(dir, await parts());
  const before = snapshot(dir);
  const next = await parts({ seed: 5 });
  const rename = fsp.rename;
  // The real writeDirAtomic writes the new folder, moves the old one aside, then fails to move the new one in.
  fsp.rename = async (from, to) => {
    if (String(from).includes('.tmp-')) throw Object.assign(new Error('EIO: simulated failure'), { code: 'EIO' });
    return rename(from, to);
  };
  try {
    await assert.rejects(saveCheckpoint(dir, next), /simulated failure/);
  } finally {
    fsp.rename = rename;
  }
  assert.deepEqual(snapshot(dir), before);
  assert.deepEqual(readdirSync(root).filter((f) => f.includes('.tmp-') || f.includes('.old-')), []);
  await loadCheckpoint(dir, { kind: 'transformer' });
});

test('atomic: a save that fails while building the files writes nothing', async () => {
  const dir = fresh();
  await saveCheckpoint(dir, await parts());
  const before = snapshot(dir);
  const broken = { ...CharTokenizer.fromCorpus(['a']), toJSON: () => { throw new Error('tokenizer exploded'); } } as unknown as Tokenizer;
  await assert.rejects(saveCheckpoint(dir, { ...(await parts()), tokenizer: broken }), /tokenizer exploded/);
  assert.deepEqual(snapshot(dir), before);
});

test('atomic: a process killed while saving over and over leaves a complete, consistent checkpoint', async () => {
  const dir = fresh();
  // The child saves checkpoints whose generator.bias is filled with k and whose trainer step is k.
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    const q = await import(${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)});
    const { saveCheckpoint } = await import(${JSON.stringify(new URL('../../src/node/checkpoint.ts', import.meta.url).href)});
    const model = new q.Transformer(${JSON.stringify({ ...CONFIG, dModel: 64, dFF: 256, encoderLayers: 2, decoderLayers: 2 })});
    const optimizer = new q.Adam(model.parameters());
    const trainer = new q.Trainer(model, { name: 't', batches: () => [], loss: () => null }, { maxSteps: 1, optimizer, schedule: null });
    for (let k = 1; ; k++) {
      model.generator.bias.assign(q.full([12], k));
      await saveCheckpoint(${JSON.stringify(dir)}, { modelKind: 'transformer', modelConfig: model.config, model, optimizer, trainerState: { ...trainer.state(), step: k } });
    }`], { cwd: new URL('../..', import.meta.url).pathname, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const t0 = Date.now();
  while (!existsSync(join(dir, 'config.json'))) {
    assert.ok(Date.now() - t0 < 30_000 && child.exitCode === null, `child never saved: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 400));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const ck = await loadCheckpoint<Transformer>(dir, { kind: 'transformer' });
  const k = ck.trainerState!.step;
  assert.ok(k >= 1);
  assert.deepEqual([...ck.model.generator.bias!.toArray()], Array(12).fill(k));
});

/** A saved checkpoint, then `damage` applied to its folder; returns the load error. */
async function loadError(damage: (dir: string) => void, opts: { kind?: string } = { kind: 'transformer' }): Promise<Error> {
  const dir = fresh();
  await saveCheckpoint(dir, { ...(await parts()), tokenizer: CharTokenizer.fromCorpus(['ab']) });
  damage(dir);
  try {
    await loadCheckpoint(dir, opts);
  } catch (e) {
    assert.ok(e instanceof CheckpointError, `${(e as Error).name}: ${(e as Error).message}`);
    return e;
  }
  assert.fail('loading should have failed');
}

const editJson = (path: string, edit: (o: Record<string, any>) => void) => {
  const o = JSON.parse(readFileSync(path, 'utf8'));
  edit(o);
  writeFileSync(path, JSON.stringify(o));
};

test('errors: a corrupted config.json names the file', async () => {
  const e = await loadError((d) => writeFileSync(join(d, 'config.json'), '{"format": "qkv-checkpoint", '));
  assert.match(e.message, /case-\d+\/config\.json: not valid JSON/);
});

test('errors: config fields of the wrong type or missing name the field and what was expected', async () => {
  let e = await loadError((d) => editJson(join(d, 'config.json'), (o) => { o.model.dModel = '8'; }));
  assert.match(e.message, /config\.json: model\.dModel is the string "8", expected an integer ≥ 1/);
  e = await loadError((d) => editJson(join(d, 'config.json'), (o) => { delete o.model.heads; }));
  assert.match(e.message, /config\.json: model\.heads is missing, expected an integer ≥ 1/);
  e = await loadError((d) => editJson(join(d, 'config.json'), (o) => { o.model.activation = 'swish'; }));
  assert.match(e.message, /config\.json: model\.activation is the string "swish", expected one of "relu", "gelu"/);
  e = await loadError((d) => editJson(join(d, 'config.json'), (o) => { o.format = 'other'; }));
  assert.match(e.message, /config\.json: format is the string "other", expected "qkv-checkpoint"/);
});

test('errors: the wrong model kind', async () => {
  const e = await loadError(() => undefined, { kind: 'gpt' });
  assert.match(e.message, /config\.json: modelKind is "transformer", expected "gpt"/);
});

test('errors: a missing model.safetensors', async () => {
  const e = await loadError((d) => rmSync(join(d, 'model.safetensors')));
  assert.match(e.message, /case-\d+\/model\.safetensors: file is missing/);
});

test("errors: weights of the wrong shape name the file, the tensor and the config field", async () => {
  const e = await loadError((d) => editJson(join(d, 'config.json'), (o) => { o.model.dFF = 32; }));
  // Checked against the weights before the model is built, naming the config field too.
  assert.match(e.message, /config\.json: model\.dFF is 32, but .*model\.safetensors: tensor "encoder\.layers\.0\.linear1\.weight" has shape \[16, 8\], expected \[32, 8\]/);
  const m = await loadError((d) => writeFileSync(join(d, 'model.safetensors'), serializeSafetensors({ 'src_embed.weight': tensor([[1]]) })));
  assert.match(m.message, /model\.safetensors: tensor "src_embed\.weight" has shape \[1, 1\], expected \[12, 8\]/);
  const l = await loadError((d) => editJson(join(d, 'config.json'), (o) => { o.model.encoderLayers = 2; }));
  assert.match(l.message, /config\.json: model\.encoderLayers is 2, but .*model\.safetensors holds 1 \(encoder\.layers\.0 to encoder\.layers\.0\)/);
});

test('errors: malformed safetensors, trainer state and tokenizer name their file and field', async () => {
  let e = await loadError((d) => writeFileSync(join(d, 'model.safetensors'), new Uint8Array([1, 2, 3])));
  assert.match(e.message, /model\.safetensors: file is 3 bytes, expected at least 8/);
  e = await loadError((d) => editJson(join(d, 'trainer_state.json'), (o) => { o.step = -1; }));
  assert.match(e.message, /trainer_state\.json: step is number -1, expected an integer ≥ 0/);
  e = await loadError((d) => editJson(join(d, 'trainer_state.json'), (o) => { o.dataRng = [1, 2]; }));
  assert.match(e.message, /trainer_state\.json: dataRng is \[1,2\], expected an Rng state/);
  e = await loadError((d) => rmSync(join(d, 'trainer_state.json')));
  assert.match(e.message, /trainer_state\.json: file is missing, expected it next to optimizer\.safetensors/);
  e = await loadError((d) => editJson(join(d, 'tokenizer.json'), (o) => { o.model = 7; }));
  assert.match(e.message, /tokenizer\.json: model is 7, expected an object/);
});

test('errors: a folder that is not there', async () => {
  await assert.rejects(loadCheckpoint(join(root, 'nope')), (e: Error) => e instanceof CheckpointError && /nope: no such checkpoint folder/.test(e.message));
});

test('resuming needs training state: restore() on a weights-only checkpoint says so', async () => {
  const dir = fresh();
  await saveCheckpoint(dir, { ...(await parts()), optimizer: null, trainerState: null });
  const ck = await loadCheckpoint<Transformer>(dir);
  const t = new Trainer(ck.model, { name: 'x', batches: () => [], loss: () => { throw new Error(); } }, { maxSteps: 1, optimizer: new Adam(ck.model.parameters(), PAPER_ADAM) });
  assert.throws(() => t.restore(ck), /no training state \(optimizer\.safetensors and trainer_state\.json\)/);
});

test('fallback: with the folder gone, a complete .old-* copy loads, a half-deleted one never does', async () => {
  const base = fresh();
  await fsp.mkdir(base);
  const dir = join(base, 'last');
  const tok = CharTokenizer.fromCorpus(['ab']);
  await saveCheckpoint(dir, { ...(await parts()), tokenizer: tok, targetTokenizer: SymbolTokenizer.fromCorpus(['x y']) });
  const old = join(base, 'last.old-abcdef');
  await fsp.rename(dir, old); // a kill between writeDirAtomic's two renames
  const ck = await readCheckpointDir(dir);
  assert.equal(ck.trainerState!.step, 2);
  for (const gone of ['config.json', 'target_tokenizer.json', 'model.safetensors']) {
    const torn = join(base, `last.old-${gone.replace(/\W/g, '')}`);
    await fsp.cp(old, torn, { recursive: true });
    rmSync(join(torn, gone));
  }
  rmSync(old, { recursive: true });
  await assert.rejects(readCheckpointDir(dir), (e: Error) => e instanceof CheckpointError && /last: no such checkpoint folder \(3 incomplete copies .* not read\)/.test(e.message));
});
