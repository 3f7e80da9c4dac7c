// `score.ts DIR`: scores the PyTorch twin's test output (DIR/twin) with qkv's metrics, printed as `qkv eval` prints them.
//
// Run: node --import tsx scripts/twin/score.ts DIR [--twin DIR/twin]

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatMetric } from '../../src/cli/format.js';
import { tokenizerFromJSON } from '../../src/tokenizers/json.js';
import { decodeMismatches, scoreLm, scoreSeq2Seq } from './twin-score.js';
import type { TwinHypothesis, TwinTestExample } from './twin-score.js';

const readJson = (path: string): Record<string, any> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
const readJsonl = <T>(path: string): T[] => readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as T);

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { twin: { type: 'string' } } });
  if (positionals.length !== 1) throw new Error('usage: score.ts DIR [--twin DIR/twin]');
  const dir = positionals[0];
  const twin = values.twin ?? join(dir, 'twin');
  const meta = readJson(join(dir, 'twin.json'));
  const result = readJson(join(twin, 'result.json'));
  const task = meta['task'] as 'g2p' | 'translate' | 'lm';
  let metrics: Record<string, number>;
  let beam = '';
  if (task === 'lm') {
    metrics = scoreLm(result['test'], meta['lm'].testCharacters, meta['counts'].testTokens);
  } else {
    const hyps = readJsonl<TwinHypothesis>(join(twin, 'hypotheses.jsonl'));
    const tok = tokenizerFromJSON(readFileSync(join(dir, task === 'g2p' ? 'target-tokenizer.json' : 'tokenizer.json'), 'utf8'));
    const bad = decodeMismatches(hyps, tok);
    if (bad.length > 0) process.stderr.write(`warning: ${bad.length} hypotheses decode differently in qkv (first: line ${bad[0] + 1}); scoring the twin's text\n`);
    metrics = scoreSeq2Seq(task, hyps.map((h) => h.text), readJsonl<TwinTestExample>(join(dir, 'test.jsonl')));
    beam = `, beam ${meta['decode'].beam}`;
  }
  process.stderr.write(`PyTorch twin: ${result['steps']} steps, ${Number(result['targetTokens']).toLocaleString('en-US')} target tokens, `
    + `${Math.round(result['tokensPerSecond'])} tok/s on ${result['threads']} threads; best valid loss ${result['best'] ? `${Number(result['best'].validLoss).toPrecision(4)} at step ${result['best'].step}` : 'none'}\n`);
  process.stdout.write(`${task} on the test split${beam}: ${twin} (${Number(result['evalSeconds']).toFixed(1)} s)\n`);
  for (const [k, v] of Object.entries(metrics)) process.stdout.write(`${k.padEnd(11)} ${formatMetric(k, v)}\n`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`score: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
