// Looking inside: train a tiny spelling → pronunciation model, then read every head's attention for a
// word through the pipeline API and draw the last decoder layer's cross-attention as a text heat map.
// Run: node --import tsx examples/attention.ts

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline, train } from '../src/node/index.js'; // in a project that installed qkv: from 'qkv'

const dir = mkdtempSync(join(tmpdir(), 'qkv-attention-'));
try {
  const { last } = await train({ task: 'g2p', preset: 'tiny', out: join(dir, 'g2p'), fields: { maxSteps: 600, evalEvery: 300, maxTrainExamples: null, warmup: 100 } });
  const g2p = await pipeline('g2p', last);
  const { text, attentions } = await g2p('HELLO', { outputAttentions: true, numBeams: 1 });
  console.log(`HELLO → ${text}`);
  const cross = attentions.crossAttentions[attentions.crossAttentions.length - 1]; // [1, H, T, S]
  const [, H, T, S] = cross.shape;
  const shades = ' .:-=+*#%@';
  for (let h = 0; h < H; h++) {
    console.log(`head ${h} (rows: output tokens, columns: ${attentions.sourceTokens.join(' ')})`);
    for (let t = 0; t < T; t++) {
      const row = Array.from({ length: S }, (_, s) => cross.data[(h * T + t) * S + s]);
      const cells = row.map((w) => shades[Math.min(shades.length - 1, Math.floor(w * shades.length))]).join('');
      console.log(`  ${attentions.targetTokens[t].padEnd(6)} |${cells}|   (sums to ${row.reduce((a, b) => a + b, 0).toFixed(3)})`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
