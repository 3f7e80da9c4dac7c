// The benchmark GPT as ONNX files with qkv's weights, cached under build/bench-onnx/<weights hash>/ (never committed).
//
// qkv builds GPT(GPT_CONFIG) (seed 0), writes its parameters as safetensors (src/io), and bench/export_onnx.py loads
// them into the PyTorch twin (bench/train_torch.py) and runs torch.onnx.export: gpt.onnx (the forward, no cache) and
// gpt-decode.onnx (one cached decoding step). By hand: `node --import tsx bench/ort-export.ts` prints the paths.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GPT, serializeSafetensors } from '../src/node/index.js';
import type { Tensor } from '../src/node/index.js';
import { PYTHON, benchFile } from './common.js';
import { GPT_CONFIG } from './models.js';

/** The two exported graphs of one set of weights. */
export interface GptOnnx {
  /** ids int64 [B, T] → logits [B, T, V]. */
  forward: string;
  /** ids int64 [B, 1], past [2L, B, H, P, K] → logits [B, V], present [2L, B, H, P+1, K]. */
  decode: string;
  /** Where they lie (with weights.safetensors). */
  dir: string;
}

const CACHE = fileURLToPath(new URL('../build/bench-onnx', import.meta.url));

/** GPT(GPT_CONFIG)'s parameters as safetensors bytes, with the head count in the metadata (the twin needs it). */
export function gptWeights(model: GPT): Uint8Array {
  const tensors = new Map<string, Tensor>(model.namedParameters());
  return serializeSafetensors(tensors, { heads: String(model.config.heads), source: 'qkv bench/ort-export.ts' });
}

/**
 * The ONNX files of `model` (default: the benchmark GPT), exported once per set of weights (keyed by their SHA-256):
 * a second call finds them in the cache. Throws, with Python's last lines, when the export fails.
 *
 * @example
 * const { forward, decode } = exportGptOnnx(); // build/bench-onnx/<hash>/gpt.onnx, gpt-decode.onnx
 */
export function exportGptOnnx(model: GPT = new GPT(GPT_CONFIG)): GptOnnx {
  const bytes = gptWeights(model);
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const dir = `${CACHE}/${hash}`;
  const out = { forward: `${dir}/gpt.onnx`, decode: `${dir}/gpt-decode.onnx`, dir };
  if (existsSync(out.forward) && existsSync(out.decode)) return out;
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/weights.safetensors`, bytes);
  try {
    execFileSync(PYTHON, [benchFile('export_onnx.py'), `${dir}/weights.safetensors`, dir], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (e) {
    const err = (e as { stderr?: string }).stderr ?? String(e);
    throw new Error(`bench/export_onnx.py failed on ${dir}/weights.safetensors:\n${err.trim().split('\n').slice(-8).join('\n')}`);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(exportGptOnnx()));
}
