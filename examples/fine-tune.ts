// Fine-tuning on your own file: pre-train a small GPT on State of the Union, then continue it on a text
// file of your own (--init-from in the CLI), and generate from the result.
// Run: node --import tsx examples/fine-tune.ts

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline, train } from '../src/node/index.js'; // in a project that installed qkv: from 'qkv'

const dir = mkdtempSync(join(tmpdir(), 'qkv-fine-tune-'));
try {
  // Your own data: plain text, one paragraph per line group (here a few lines of Moby-Dick's first chapter).
  const book = join(dir, 'book.txt');
  const valid = join(dir, 'valid.txt');
  writeFileSync(book, [
    'Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse,',
    'and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world.',
    'It is a way I have of driving off the spleen and regulating the circulation.',
    '',
    'Whenever I find myself growing grim about the mouth; whenever it is a damp, drizzly November in my soul,',
    'then, I account it high time to get to sea as soon as I can. This is my substitute for pistol and ball.',
  ].join('\n').repeat(20));
  writeFileSync(valid, 'There now is your insular city of the Manhattoes, belted round by wharves as Indian isles by coral reefs.\n');

  // 1. Pre-train on the packaged corpus (the tiny preset: seconds).
  const base = await train({ task: 'lm', preset: 'tiny', out: join(dir, 'sotu'), fields: { maxSteps: 60 } });
  // 2. Fine-tune on the file: the checkpoint's weights and tokenizer, a new optimizer and schedule.
  const tuned = await train({
    task: 'lm', preset: 'tiny', out: join(dir, 'book'), initFrom: base.last, fields: { train: book, valid, maxSteps: 60 },
    onLine: (line) => console.log(line),
  });
  console.log(`fine-tuned from ${base.last}: step ${tuned.result.step}, best ${tuned.result.best?.metric} ${tuned.result.best?.value.toFixed(3)}`);
  // 3. Use it.
  const generate = await pipeline('text-generation', tuned.last);
  console.log(JSON.stringify(await generate('Call me', { maxNewTokens: 30, doSample: true, temperature: 0.8, seed: 1 })));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
