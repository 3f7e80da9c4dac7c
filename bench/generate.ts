// Tokens per second of batch-1 greedy GPT generation, with and without the KV cache.
// Run: node --import tsx bench/generate.ts [tokens=100]

import { GPT, defaultBackend, generate } from '../src/node/index.js';

const N = Number(process.argv[2] ?? 100);
const model = new GPT({ vocab: 96, dModel: 128, heads: 4, layers: 4, context: 128, dropout: 0, seed: 0 });
const prompt = [[1]];
console.log(`backend ${defaultBackend().name}; GPT vocab 96, 4 layers, 4 heads, d 128, context 128; batch 1, ${N} new tokens`);
generate(model, prompt, { maxNewTokens: 8 }); // warm-up
const outputs: number[][] = [];
for (const useCache of [true, false]) {
  const runs: number[] = [];
  let tokens: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    tokens = generate(model, prompt, { maxNewTokens: N, useCache })[0];
    runs.push((performance.now() - t0) / 1000);
  }
  outputs.push(tokens);
  const best = Math.min(...runs);
  console.log(`${useCache ? 'with cache   ' : 'without cache'}: ${(tokens.length / best).toFixed(1)} tokens/s (best of 3: ${(best * 1000).toFixed(0)} ms for ${tokens.length} tokens)`);
}
console.log(`cached and uncached tokens ${outputs[0].join(' ') === outputs[1].join(' ') ? 'agree' : 'DIFFER'}`);
