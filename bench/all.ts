// `npm run bench`: sgemm, training and inference, qkv against PyTorch, one table per section with the targets;
// then GPT-2 small in Hugging Face's layout (qkv only: load time, memory, tokens/s).
//
// Then the wasm backend beside native (bench/wasm.ts: sgemm against the measured wasm peak, GPT training and generation),
// and qkv against onnxruntime on the same GPT (bench/ort.ts: native vs onnxruntime-node, wasm vs onnxruntime-web).
//
// Options: --quick (fewer steps and rounds, ~2 minutes), --rounds=N (fresh processes per side),
// --composed (qkv without the native backend's fused kernels), --no-torch (sgemm only), --no-gpt2 (skip GPT-2 small),
// --no-wasm (skip the wasm tables), --no-ort (skip the onnxruntime tables).

import { cpus, loadavg } from 'node:os';
import { benchGpt2Small } from './gpt2-small.js';
import { benchInfer } from './infer.js';
import { benchOrt } from './ort.js';
import { flag, option } from './common.js';
import { benchSgemm } from './sgemm.js';
import { benchTrain } from './train.js';
import { benchWasm } from './wasm.js';

const quick = flag('quick');
const rounds = Number(option('rounds', quick ? '1' : '3'));
const composed = flag('composed');
console.log(`qkv bench ${new Date().toISOString().slice(0, 16)}Z; ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}; ` +
  `load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}${quick ? '; --quick' : ''}\n`);
await benchSgemm();
await benchTrain(quick, rounds, composed);
await benchInfer(quick, rounds, composed);
if (!flag('no-gpt2')) await benchGpt2Small();
if (!flag('no-wasm')) await benchWasm(quick, Math.min(rounds, 2));
if (!flag('no-ort')) await benchOrt(quick, rounds, { wasm: !flag('no-wasm') });
console.log(`\nload average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
