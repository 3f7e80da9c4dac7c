// Checkpoints that used to load cleanly and answer wrongly: a missing target tokenizer, a tokenizer smaller than the model, non-finite weights, out-of-range config fields, and configs larger than their weights.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CharTokenizer, CheckpointError, GPT, SymbolTokenizer, Transformer, parseSafetensors, serializeSafetensors, tensor } from '../../src/index.js';
import { loadPretrained } from '../../src/inference/pretrained.js';
import { openCheckpoint } from '../../src/cli/open.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/node/checkpoint.js';

const root = mkdtempSync(join(tmpdir(), 'qkv-loadchecks-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

const letters = CharTokenizer.fromCorpus(['ABCDEFGHIJKLMNOPQRSTUVWXYZ']); // 26 letters + 4 specials
const phonemes = SymbolTokenizer.fromCorpus(['HH AH0 L OW1 W ER1 D']);    // 7 symbols + 4 specials

/** A g2p-shaped checkpoint: letters in, phonemes out, vocabularies equal to the tokenizers'. */
async function g2pDir(): Promise<string> {
  const dir = join(root, `g2p-${n++}`);
  const model = new Transformer({ srcVocab: letters.vocabSize, tgtVocab: phonemes.vocabSize, dModel: 8, heads: 2, dFF: 16, encoderLayers: 1, decoderLayers: 1, seed: 1 });
  await saveCheckpoint(dir, { modelKind: 'transformer', modelConfig: model.config, model, tokenizer: letters, targetTokenizer: phonemes, task: { name: 'g2p', options: {} } });
  return dir;
}

async function gptDir(): Promise<string> {
  const dir = join(root, `gpt-${n++}`);
  const model = new GPT({ vocab: letters.vocabSize, dModel: 8, heads: 2, layers: 1, context: 16, seed: 1 });
  await saveCheckpoint(dir, { modelKind: 'gpt', modelConfig: model.config, model, tokenizer: letters, task: { name: 'lm', options: {} } });
  return dir;
}

function editConfig(dir: string, f: (model: Record<string, unknown>) => void): void {
  const path = join(dir, 'config.json');
  const c = JSON.parse(readFileSync(path, 'utf8'));
  f(c.model);
  writeFileSync(path, JSON.stringify(c));
}

async function rejects(load: Promise<unknown>, ...parts: RegExp[]): Promise<void> {
  await assert.rejects(load, (e: Error) => {
    assert.ok(e instanceof CheckpointError, `expected a CheckpointError, got ${e.name}: ${e.message}`);
    for (const p of parts) assert.match(e.message, p);
    return true;
  });
}

const filesOf = (dir: string) => Object.fromEntries(['config.json', 'model.safetensors', 'tokenizer.json', 'target_tokenizer.json']
  .flatMap((f) => { try { return [[f, readFileSync(join(dir, f))]]; } catch { return []; } }));

test('sanity: the fixtures load', async () => {
  const ck = await loadCheckpoint<Transformer>(await g2pDir());
  assert.equal(ck.targetTokenizer!.vocabSize, 11);
  await loadCheckpoint(await gptDir());
});

test('without target_tokenizer.json, a model whose target differs from its source is refused (not read in letters)', async () => {
  const dir = await g2pDir();
  rmSync(join(dir, 'target_tokenizer.json'));
  const want = [/target_tokenizer\.json: file is missing/, /30 tokens/, /target vocabulary is 11/, /model\.tgtVocab/];
  await rejects(loadCheckpoint(dir), ...want);
  await rejects(loadPretrained(filesOf(dir), { source: dir }), ...want);
  await rejects(openCheckpoint(dir, { kind: 'transformer', needTokenizer: true }), ...want);
});

test('a tokenizer smaller than the model vocabulary (15 vs 30) is refused, naming both sizes', async () => {
  const dir = await g2pDir();
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(CharTokenizer.fromCorpus(['ABCDEFGHIJK']).toJSON())); // 11 + 4 = 15
  await rejects(loadCheckpoint(dir), /tokenizer\.json: has 15 tokens, but model\.srcVocab of .*config\.json is 30/);
  const g = await gptDir();
  writeFileSync(join(g, 'tokenizer.json'), JSON.stringify(CharTokenizer.fromCorpus(['ABCDEFGHIJK']).toJSON()));
  await rejects(loadPretrained(filesOf(g), { source: g }), /tokenizer\.json: has 15 tokens, but model\.vocab of .*config\.json is 30/);
});

test('non-finite weights are refused, naming the first bad tensor', async () => {
  const dir = await g2pDir();
  const path = join(dir, 'model.safetensors');
  const { tensors } = parseSafetensors(readFileSync(path));
  const poisoned = new Map([...tensors].map(([k, t]) => [k, tensor(new Float32Array(t.size).fill(NaN), { shape: t.shape })]));
  writeFileSync(path, serializeSafetensors(poisoned));
  const first = [...tensors.keys()].sort()[0]!; // the writer lays tensors out sorted by name
  await rejects(loadCheckpoint(dir), new RegExp(`model\\.safetensors: tensor "${first.replace(/\./g, '\\.')}" holds \\d+ non-finite values`));
  // One infinity in a later tensor is named too.
  const one = new Map(tensors);
  const d = Float32Array.from(tensors.get('generator.bias')!.toArray());
  d[3] = Infinity;
  one.set('generator.bias', tensor(d, { shape: [d.length] }));
  writeFileSync(path, serializeSafetensors(one));
  await rejects(loadPretrained(filesOf(dir), { source: dir }), /tensor "generator\.bias" holds 1 non-finite value of 11 \(the first, at flat index 3, is Infinity\)/);
});

test('eps -1, 1e308 and "x" are field errors for every model kind (the CLI path too)', async () => {
  for (const make of [g2pDir, gptDir]) {
    for (const eps of [-1, 1e308, 'x', 0]) {
      const dir = await make();
      editConfig(dir, (m) => { m.eps = eps; });
      const shown = typeof eps === 'string' ? `(the string )?"${eps}"` : String(eps).replace('+', '\\+');
      await rejects(loadCheckpoint(dir), /config\.json: /, new RegExp(`eps is ${shown}, expected a finite number`));
      await rejects(openCheckpoint(dir), new RegExp(`eps is ${shown}`));
    }
  }
  const dir = await gptDir();
  editConfig(dir, (m) => { m.dropout = 1.5; });
  await rejects(openCheckpoint(dir), /GPT: dropout is 1\.5, expected a finite number in \[0, 1\)/);
});

test('config sizes larger than the weights (srcVocab 1e8, context 1e8, more layers) are refused before the model is built', async () => {
  const dir = await g2pDir();
  editConfig(dir, (m) => { m.srcVocab = 1e8; });
  await rejects(loadCheckpoint(dir), /config\.json: model\.srcVocab is 100000000, but .*model\.safetensors: tensor "src_embed\.weight" has shape \[30, 8\], expected \[100000000, 8\]/);
  const g = await gptDir();
  editConfig(g, (m) => { m.context = 1e8; });
  await rejects(loadCheckpoint(g), /GPT: context is 100000000, expected an integer from 1 to 65536 \(the cap LIMITS\.maxPositions\)/);
  const g2 = await gptDir();
  editConfig(g2, (m) => { m.context = 64; });
  await rejects(loadCheckpoint(g2), /model\.context is 64, but .*tensor "wpe\.weight" has shape \[16, 8\], expected \[64, 8\]/);
  const g3 = await gptDir();
  editConfig(g3, (m) => { m.layers = 40; });
  await rejects(loadCheckpoint(g3), /model\.layers is 40, but .*model\.safetensors holds 1 \(layers\.0 to layers\.0\)/);
  const t = await g2pDir();
  editConfig(t, (m) => { m.maxLen = 1e8; }); // sinusoidal: not in the weights, so capped
  await rejects(loadCheckpoint(t), /maxLen is 100000000, expected an integer from 1 to 65536/);
});

test('tied weights whose copies differ in the file are refused (one would be dropped silently)', async () => {
  const g = await gptDir();
  const path = join(g, 'model.safetensors');
  const { tensors } = parseSafetensors(readFileSync(path));
  const head = Float32Array.from(tensors.get('lm_head.weight')!.toArray());
  head[5] += 1;
  tensors.set('lm_head.weight', tensor(head, { shape: tensors.get('lm_head.weight')!.shape }));
  writeFileSync(path, serializeSafetensors(tensors));
  await rejects(loadCheckpoint(g), /model\.safetensors: loadStateDict into GPT: (lm_head|wte)\.weight: tied to (wte|lm_head)\.weight \(one tensor in the model\), but their values in the state differ/);
});

test('a null field is refused, not read as its default (GPT attentionDropout null once loaded as 0)', async () => {
  const g = await gptDir();
  editConfig(g, (m) => { m.attentionDropout = null; });
  await rejects(loadCheckpoint(g), /GPT: attentionDropout is null, expected a finite number in \[0, 1\)/);
  assert.throws(() => new GPT({ vocab: 9, dModel: 8, heads: 2, layers: 1, context: 4, eps: null as unknown as number }), /GPT: eps is null/);
});
