// The benchmark models as ONNX files with qkv's weights, cached under build/bench-onnx/<weights hash>/ (never committed).
//
// qkv builds GPT(GPT_CONFIG) and Transformer(S2S_CONFIG) (seed 0), writes their parameters as safetensors (src/io),
// and bench/export_onnx.py loads them into the PyTorch twins (bench/train_torch.py) and runs torch.onnx.export:
// gpt.onnx (the forward, no cache), gpt-decode.onnx (one cached decoding step) and s2s.onnx (the encoder-decoder's
// forward). By hand: `node --import tsx bench/ort-export.ts` prints the paths.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GPT, Transformer, serializeSafetensors } from '../src/node/index.js';
import type { Tensor } from '../src/node/index.js';
import { PYTHON, benchFile } from './common.js';
import { GPT_CONFIG, S2S_CONFIG } from './models.js';

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

/** A model's parameters as safetensors bytes, with what the twin needs beyond shapes in the metadata (heads, maxLen). */
export function modelWeights(model: GPT | Transformer): Uint8Array {
  const tensors = new Map<string, Tensor>(model.namedParameters());
  const meta: Record<string, string> = { heads: String(model.config.heads), source: 'qkv bench/ort-export.ts' };
  if (model instanceof Transformer) meta.maxLen = String(model.config.maxLen);
  return serializeSafetensors(tensors, meta);
}

/** Runs bench/export_onnx.py on `bytes` in `dir` unless all of `files` are there already. */
function exportOnce(kind: 'gpt' | 's2s', bytes: Uint8Array, dir: string, files: readonly string[]): void {
  if (files.every((f) => existsSync(f))) return;
  mkdirSync(dir, { recursive: true });
  const weights = `${dir}/${kind}.safetensors`;
  writeFileSync(weights, bytes);
  try {
    execFileSync(PYTHON, [benchFile('export_onnx.py'), kind, weights, dir], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (e) {
    const err = (e as { stderr?: string }).stderr ?? String(e);
    throw new Error(`bench/export_onnx.py failed on ${weights}:\n${err.trim().split('\n').slice(-8).join('\n')}`);
  }
}

const hashOf = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

/**
 * The ONNX files of `model` (default: the benchmark GPT), exported once per set of weights (keyed by their SHA-256):
 * a second call finds them in the cache. Throws, with Python's last lines, when the export fails.
 *
 * @example
 * const { forward, decode } = exportGptOnnx(); // build/bench-onnx/<hash>/gpt.onnx, gpt-decode.onnx
 */
export function exportGptOnnx(model: GPT = new GPT(GPT_CONFIG)): GptOnnx {
  const bytes = modelWeights(model);
  const dir = `${CACHE}/${hashOf(bytes)}`;
  const out = { forward: `${dir}/gpt.onnx`, decode: `${dir}/gpt-decode.onnx`, dir };
  exportOnce('gpt', bytes, dir, [out.forward, out.decode]);
  return out;
}

/**
 * The S2S model's ONNX file (src int64 [B, S], tgt int64 [B, T] → logits [B, T, V]), exported once per set of
 * weights; `dir` is where it lies.
 *
 * @example
 * const { forward } = exportS2sOnnx(); // build/bench-onnx/<hash>/s2s.onnx
 */
export function exportS2sOnnx(model: Transformer = new Transformer(S2S_CONFIG)): { forward: string; dir: string } {
  const bytes = modelWeights(model);
  const dir = `${CACHE}/${hashOf(bytes)}`;
  const out = { forward: `${dir}/s2s.onnx`, dir };
  exportOnce('s2s', bytes, dir, [out.forward]);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify({ gpt: exportGptOnnx(), s2s: exportS2sOnnx() }));
}
