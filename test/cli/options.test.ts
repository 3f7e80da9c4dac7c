// The CLI's decoding flags under Hugging Face's names (--num-beams, --max-new-tokens, --do-sample) and their
// old aliases (--beam, --tokens): each prints what the inference room's pipeline gives for the same options.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { ByteLevelBPE, GPT, noGrad, saveCheckpoint } from '../../src/node/index.js';
import { pipeline } from '../../src/node/pretrained.js';
import { trainLettersModel } from '../inference/letters-model.js';
import { qkv } from '../helpers/cli-process.js';

const scratch = mkdtempSync(join(tmpdir(), 'qkv-cli-options-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));


let g2pDir: string;
let gptDir: string;

before(async () => {
  g2pDir = (await trainLettersModel(80, 3)).dir; // rough: its answers vary with the options
  const tok = ByteLevelBPE.train(['the cat sat on the mat. the dog sat on the log.'.repeat(5)], { vocabSize: 290 });
  const model = new GPT({ vocab: tok.vocabSize, dModel: 16, heads: 2, layers: 2, context: 32, dropout: 0, seed: 5 });
  noGrad(() => { for (const p of model.parameters()) if (p.ndim === 2) p.assign(p.mul(8)); });
  gptDir = join(scratch, 'gpt');
  await saveCheckpoint(gptDir, { modelKind: 'gpt', modelConfig: model.config, model, tokenizer: tok, task: { name: 'lm', options: {} } });
});

test('qkv g2p: --num-beams, its alias --beam, --max-new-tokens; disagreeing aliases are a usage error', async () => {
  const g2p = await pipeline('g2p', g2pDir);
  const words = ['HELLO', 'WORLD'];
  const expect = async (o: { numBeams?: number; maxNewTokens?: number }) => {
    const out = await g2p(words, o);
    return words.map((w, i) => `${w}  ${out[i]}`).join('\n') + '\n';
  };
  const [greedy, alias, beams, short, clash] = await Promise.all([
    qkv('g2p', g2pDir, ...words, '--num-beams', '1'),
    qkv('g2p', g2pDir, ...words, '--beam', '1'),
    qkv('g2p', g2pDir, ...words),
    qkv('g2p', g2pDir, ...words, '--num-beams', '1', '--max-new-tokens', '2'),
    qkv('g2p', g2pDir, 'HELLO', '--num-beams', '3', '--beam', '2'),
  ]);
  assert.equal(greedy.stdout, await expect({ numBeams: 1 }), greedy.stderr);
  assert.equal(alias.stdout, greedy.stdout);
  assert.equal(beams.stdout, await expect({ numBeams: 2 }), 'the checkpoint records beam 2'); // trainLettersModel's config
  assert.equal(short.stdout, await expect({ numBeams: 1, maxNewTokens: 2 }));
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /^qkv: --num-beams 3 and its alias --beam 2 disagree/m);
});

test('qkv generate: --max-new-tokens (alias --tokens), --no-do-sample or --temperature 0 for greedy, sampling by default', async () => {
  const gen = await pipeline('text-generation', gptDir);
  const prompt = 'the cat';
  const [greedy, alias, cold, sampled] = await Promise.all([
    qkv('generate', gptDir, '--prompt', prompt, '--max-new-tokens', '8', '--no-do-sample'),
    qkv('generate', gptDir, '--prompt', prompt, '--tokens', '8', '--no-do-sample'),
    qkv('generate', gptDir, '--prompt', prompt, '--tokens', '8', '--temperature', '0'),
    qkv('generate', gptDir, '--prompt', prompt, '--max-new-tokens', '8', '--seed', '4', '--top-k', '20'),
  ]);
  assert.equal(greedy.stdout, (await gen(prompt, { maxNewTokens: 8 })) + '\n', greedy.stderr);
  assert.equal(alias.stdout, greedy.stdout);
  assert.equal(cold.stdout, greedy.stdout);
  assert.equal(sampled.stdout, (await gen(prompt, { maxNewTokens: 8, doSample: true, temperature: 0.8, seed: 4, topK: 20 })) + '\n', sampled.stderr);
});
