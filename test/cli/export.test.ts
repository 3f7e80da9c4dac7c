// `qkv export --format hf`: a checkpoint folder to a Hugging Face folder, read back by loadPretrained with identical logits.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { GPT } from '../../src/models/gpt.js';
import { saveCheckpoint } from '../../src/node/checkpoint.js';
import { loadPretrained } from '../../src/node/pretrained.js';
import { noGrad, tensor } from '../../src/tensor/index.js';
import { ByteLevelBPE } from '../../src/tokenizers/index.js';
import { qkv } from '../helpers/cli-process.js';

test('qkv export --format hf writes config.json, model.safetensors, tokenizer.json and tokenizer_config.json; loadPretrained reads them back with identical logits', async () => {
  const root = mkdtempSync(join(tmpdir(), 'qkv-export-'));
  try {
    const tok = ByteLevelBPE.train(['the cat sat on the mat', 'the dog ate the cat'], { vocabSize: 290 });
    const gpt = new GPT({ vocab: tok.vocabSize, dModel: 16, heads: 2, layers: 1, context: 16, activation: 'gelu_new', seed: 5 });
    await saveCheckpoint(join(root, 'ck'), { modelKind: 'gpt', modelConfig: gpt.config, model: gpt, tokenizer: tok, task: { name: 'lm', options: {} } });
    const out = join(root, 'hf');
    const r = await qkv('export', '--format', 'hf', join(root, 'ck'), out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote .*hf: GPT2LMHeadModel from .*ck \(config\.json, model\.safetensors, tokenizer\.json, tokenizer_config\.json/);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config.model_type, 'gpt2');
    assert.equal(config.activation_function, 'gelu_new');
    assert.equal((config.qkv as { modelKind: string }).modelKind, 'gpt');

    const back = await loadPretrained(out);
    assert.equal(back.kind, 'gpt');
    const ids = tensor([tok.encode('the cat ate the mat')], { dtype: 'int32' });
    gpt.eval();
    const want = noGrad(() => gpt.forward(ids).logits.toArray());
    const got = noGrad(() => (back.model as GPT).forward(ids).logits.toArray());
    assert.deepEqual(Array.from(got), Array.from(want));

    // An HF folder is a checkpoint to the other commands too: info reads it, and exporting it again gives the same bytes.
    const info = await qkv('info', out);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /^model +gpt: vocab 290, dModel 16/m);
    assert.equal((await qkv('export', '--format', 'hf', out, join(root, 'hf2'))).code, 0);
    assert.ok(readFileSync(join(root, 'hf2', 'model.safetensors')).equals(readFileSync(join(out, 'model.safetensors'))));

    // Refused: an existing folder (without --overwrite), another layout, and a checkpoint that is not there.
    const again = await qkv('export', '--format', 'hf', join(root, 'ck'), out);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^qkv: .*hf: already exists, expected a new folder \(or --overwrite to replace it\)\n$/);
    assert.equal((await qkv('export', '--format', 'hf', join(root, 'ck'), out, '--overwrite')).code, 0);
    const onnx = await qkv('export', '--format', 'onnx', join(root, 'ck'), join(root, 'x'));
    assert.equal(onnx.code, 2);
    assert.match(onnx.stderr, /--format/);
    const none = await qkv('export', '--format', 'hf', join(root, 'nope'), join(root, 'y'));
    assert.equal(none.code, 1);
    assert.match(none.stderr, /nope: no such checkpoint folder/);
    assert.ok(!existsSync(join(root, 'y')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
