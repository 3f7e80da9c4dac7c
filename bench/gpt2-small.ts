// GPT-2 small in Hugging Face's layout: a 124M-parameter GPT (random weights, vocab 50,257) built, saved as an HF
// folder, loaded back with loadPretrained (load time, memory) and asked to generate (tokens/s, batch 1, KV cache).
//
// Not a test: run with `npm run bench` or `node --import tsx bench/gpt2-small.ts [--tokens=32]`. qkv only (no
// PyTorch column): the figures are qkv's own. The folder (~500 MB) is written to the system's temporary directory
// and removed afterwards.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_TSX, benchFile, fmt, option, printTable, runWorker, workerEnv } from './common.js';

export interface Gpt2SmallResult { save: Record<string, number> | null; load: Record<string, number> | null }

/** Runs the two phases in fresh processes and prints their table. */
export async function benchGpt2Small(threads = 2): Promise<Gpt2SmallResult> {
  const root = mkdtempSync(join(tmpdir(), 'qkv-gpt2-small-'));
  const dir = join(root, 'gpt2-small');
  const env = workerEnv(threads);
  const tokens = option('tokens', '32');
  try {
    const save = await runWorker(process.execPath, [...NODE_TSX, benchFile('gpt2-small-worker.ts'), '--phase=save', `--dir=${dir}`], env);
    const load = save ? await runWorker(process.execPath, [...NODE_TSX, benchFile('gpt2-small-worker.ts'), '--phase=load', `--dir=${dir}`, `--tokens=${tokens}`], env) : null;
    const s = save ?? {};
    const l = load ?? {};
    printTable(
      `GPT-2 small (${fmt(s.params / 1e6, 1)}M parameters, random weights, vocab 50,257) in Hugging Face's layout, ${threads} threads, one fresh process per phase`,
      ['measure', 'value'],
      [
        ['build (random init)', `${fmt(s.build, 1)} s`],
        ['save as an HF folder (model.safetensors, config.json, tokenizer)', `${fmt(s.save, 1)} s`],
        ['loadPretrained(folder)', `${fmt(l.load, 2)} s`],
        ['resident memory after loading', `${fmt(l.loadRssMiB)} MiB`],
        ['peak resident memory of the load + generate process', `${fmt(l.peakRssMiB)} MiB`],
        ['logits after the round trip, largest difference', l.maxDiff === undefined ? '-' : String(l.maxDiff)],
        [`greedy ${l.generated ?? tokens} tokens, B1, KV cache`, `${fmt(l.generateTokPerSec, 1)} tok/s`],
      ],
    );
    return { save, load };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchGpt2Small();
