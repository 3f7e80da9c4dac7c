// `export.ts <task|config.json> --preset P --out DIR`: writes what qkv's recipe trains on, for the PyTorch twin.
//
// Run: node --import tsx scripts/twin/export.ts g2p --preset base --out runs/twin-g2p-base
// Takes the task (or config file), --preset, --steps, --minutes and --seed exactly as `qkv train` does.
// DIR gets
//   twin.json                 task, preset, full config, resolved model config, training and decoding options, counts
//   tokenizer.json            the (source) tokenizer; target-tokenizer.json too for g2p
//   train.jsonl valid.jsonl   encoder-decoder: one [src ids, tgt ids] per line (no <s>/</s>); valid = the subset qkv evaluates on
//   test.jsonl                {"src": ids, "text": source text, "refs": [reference texts]} per line (the whole test split)
//   train.i32 valid.i32 test.i32   lm: the token streams, little-endian int32

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readTrainTarget } from '../../src/cli/train.js';
import { twinExport } from './twin-data.js';

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} is ${JSON.stringify(v)}, expected a non-negative number`);
  return n;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { preset: { type: 'string' }, out: { type: 'string' }, steps: { type: 'string' }, minutes: { type: 'string' }, seed: { type: 'string' } },
  });
  if (positionals.length !== 1 || !values.out) {
    throw new Error('usage: export.ts <g2p|translate|lm|config.json> [--preset tiny|small|base] [--steps N] [--minutes M] [--seed S] --out DIR');
  }
  const { config } = readTrainTarget(positionals[0], {
    preset: values.preset, steps: int('steps', values.steps), minutes: int('minutes', values.minutes), seed: int('seed', values.seed),
  });
  const t0 = performance.now();
  const ex = await twinExport(config);
  const dir = values.out;
  mkdirSync(dir, { recursive: true });
  const write = (name: string, data: string | Uint8Array) => writeFileSync(join(dir, name), data);
  write('twin.json', JSON.stringify(ex.meta, null, 2) + '\n');
  write('tokenizer.json', JSON.stringify(ex.tokenizer.toJSON()));
  if (ex.targetTokenizer) write('target-tokenizer.json', JSON.stringify(ex.targetTokenizer.toJSON()));
  const lines = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  const bytes = (a: Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (ex.train) write('train.jsonl', lines(ex.train.map((p) => [p.src, p.tgt])));
  if (ex.valid) write('valid.jsonl', lines(ex.valid.map((p) => [p.src, p.tgt])));
  if (ex.test) write('test.jsonl', lines(ex.test));
  if (ex.trainIds) write('train.i32', bytes(ex.trainIds));
  if (ex.validIds) write('valid.i32', bytes(ex.validIds));
  if (ex.testIds) write('test.i32', bytes(ex.testIds));
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  process.stdout.write(`${ex.meta['summary'] as string}\nexported ${config.task} (preset ${config.preset}) to ${dir} in ${seconds} s: ${JSON.stringify(ex.meta['counts'])}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`export: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
