// One phase of the GPT-2-small benchmark in its own process (so each memory peak is its own); one JSON line out.
//   --phase=save --dir=D   builds a 124M-parameter GPT-2-small-shaped GPT (random weights, vocab 50,257, gelu_new),
//                          writes it to D in Hugging Face's layout (qkv export's files) and D.logits.json
//   --phase=load --dir=D   loads D with loadPretrained, checks its logits against D.logits.json, generates
// Run by bench/gpt2-small.ts.

import { readFileSync, writeFileSync } from 'node:fs';
import { GPT, generate, gpt2Tokenizer, hfFolderFiles, installDefaultBackend, loadPretrained, noGrad, readCheckpoint, checkpointFiles, tensor, writeDirAtomic } from '../src/node/index.js';
import { MiB, option } from './common.js';

installDefaultBackend();
const phase = option('phase', 'save');
const dir = option('dir', '');
const newTokens = Number(option('tokens', '32'));
const PROMPT = 'The Transformer is a model architecture eschewing recurrence and instead relying entirely on an attention mechanism';
const seconds = (t0: number): number => (performance.now() - t0) / 1000;
const rssMiB = (): number => process.memoryUsage().rss / MiB;

const tok = await gpt2Tokenizer();
const prompt = tok.encode(PROMPT);
const logitsOf = (m: GPT): number[] => Array.from(noGrad(() => m.forward(tensor([prompt], { dtype: 'int32' })).logits.narrow(1, prompt.length - 1, 1).toArray()));

if (phase === 'save') {
  let t0 = performance.now();
  const gpt = new GPT({ vocab: 50257, activation: 'gelu_new', dropout: 0, seed: 1 }); // GPT-2 small: 12 × 768, 12 heads, context 1024
  const build = seconds(t0);
  gpt.eval();
  const params = gpt.parameters().reduce((n, p) => n + p.size, 0);
  t0 = performance.now();
  const files = checkpointFiles({ modelKind: 'gpt', modelConfig: gpt.config, model: gpt, tokenizer: tok });
  const bytes = new Map(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v]));
  await writeDirAtomic(dir, hfFolderFiles(readCheckpoint(bytes)));
  const save = seconds(t0);
  writeFileSync(`${dir}.logits.json`, JSON.stringify(logitsOf(gpt)));
  console.log(JSON.stringify({ params, build, save, saveRssMiB: rssMiB() }));
} else {
  const t0 = performance.now();
  const p = await loadPretrained(dir);
  const load = seconds(t0);
  const loadRssMiB = rssMiB();
  const want = JSON.parse(readFileSync(`${dir}.logits.json`, 'utf8')) as number[];
  const got = logitsOf(p.model as GPT);
  const maxDiff = got.reduce((m, x, i) => Math.max(m, Math.abs(x - want[i])), 0);
  const t1 = performance.now();
  const out = generate(p.model as GPT, [prompt], { maxNewTokens: newTokens, useCache: true })[0];
  const gen = seconds(t1);
  console.log(JSON.stringify({ load, loadRssMiB, maxDiff, generated: out.length, generateTokPerSec: out.length / gen, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
  console.error(`sample: ${JSON.stringify(tok.decode(out).slice(0, 80))}`);
}
