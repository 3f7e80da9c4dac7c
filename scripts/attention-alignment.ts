// Claim 3 of docs/claims.md, "attention focuses on the relevant parts of the input": for a G2P checkpoint, how
// often each decoder layer and head puts its largest cross-attention weight on the letter that a monotonic
// edit-distance alignment (src/inference/alignment.ts, made without the model) gives each phoneme.
//
//   node --import tsx scripts/attention-alignment.ts <g2p checkpoint or run folder> [--words 1000] [--split test] [--json out.json]
//
// Teacher-forced on each word's first listed pronunciation. Baselines in the same table: the diagonal
// (phoneme j on letter ⌊j·L/P⌋) and chance (1/L per phoneme, averaged).

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadCmudict } from '../src/data/index.js';
import { alignmentAgreement, monotonicAlignment } from '../src/inference/alignment.js';
import type { HeadAgreement } from '../src/inference/alignment.js';
import { seq2seqAttentions } from '../src/inference/attentions.js';
import { installDefaultBackend, loadPretrained } from '../src/node/index.js';
import { spread } from '../src/train/tasks/index.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { words: { type: 'string', default: '1000' }, split: { type: 'string', default: 'test' }, json: { type: 'string' } } });
if (positionals.length !== 1) {
  console.error('usage: node --import tsx scripts/attention-alignment.ts <g2p checkpoint> [--words N] [--split test|valid] [--json out.json]');
  process.exit(2);
}
installDefaultBackend();
const ck = await loadPretrained(positionals[0]);
if (ck.kind !== 'transformer') throw new Error(`${positionals[0]}: a ${ck.kind} checkpoint, expected an encoder-decoder (G2P)`);
const data = await loadCmudict();
const split = values.split === 'valid' ? data.valid : data.test;
const entries = spread(split, Number(values.words));

const tally: HeadAgreement[] = [];
let diagonal = 0, chance = 0, phonemes = 0, skipped = 0;
for (const e of entries) {
  const letters = [...e.word];
  const phones = e.pronunciations[0].split(' ').filter(Boolean);
  const src = ck.tokenizer.encode(e.word);
  const tgt = ck.targetTokenizer.encode(ck.task === 'g2p' && (ck.config.task?.options as { stress?: boolean } | undefined)?.stress === false ? phones.map((p) => p.replace(/[0-9]+$/, '')).join(' ') : phones.join(' '));
  if (src.length !== letters.length || tgt.length !== phones.length) {
    skipped++;
    continue;
  }
  const ref = monotonicAlignment(letters, phones);
  const a = seq2seqAttentions(ck, src, tgt, true);
  alignmentAgreement(a.crossAttentions, ref, tally);
  ref.forEach((r, j) => {
    diagonal += r === Math.floor((j * letters.length) / phones.length) ? 1 : 0;
    chance += 1 / letters.length;
  });
  phonemes += phones.length;
}

const pct = (x: number) => (100 * x).toFixed(1);
const layers = Math.max(...tally.map((t) => t.layer)) + 1;
const heads = Math.max(...tally.map((t) => t.head)) + 1;
console.log(`${positionals[0]}: ${entries.length - skipped} ${values.split} words (${skipped} skipped: a letter or phoneme outside the tokenizers), ${phonemes} phonemes`);
console.log(`\n| decoder layer | ${Array.from({ length: heads }, (_, h) => `head ${h}`).join(' | ')} | best head |`);
console.log(`|---|${'---:|'.repeat(heads + 1)}`);
for (let l = 0; l < layers; l++) {
  const row = tally.filter((t) => t.layer === l).sort((x, y) => x.head - y.head);
  console.log(`| ${l} | ${row.map((t) => pct(t.agree / t.total)).join(' | ')} | ${pct(Math.max(...row.map((t) => t.agree / t.total)))} |`);
}
console.log(`\nbaselines: the diagonal ${pct(diagonal / phonemes)}%, chance ${pct(chance / phonemes)}% (share of phonemes on their aligned letter)`);
if (values.json) writeFileSync(values.json, JSON.stringify({ checkpoint: positionals[0], split: values.split, words: entries.length - skipped, phonemes, diagonal: diagonal / phonemes, chance: chance / phonemes, heads: tally }, null, 2) + '\n');
