// GPT inference, qkv against onnxruntime on the same weights (issues 16 and 19): qkv native (QKV_THREADS=2) against
// onnxruntime-node's CPU EP (intraOpNumThreads 2), and qkv's wasm backend against onnxruntime-web's wasm EP in Node
// (both one thread). The benchmark GPT and S2S go to ONNX through their PyTorch twins (bench/ort-export.ts); ORT's
// logits are checked against qkv's before any timing. Then, in rounds, each case runs ~1 s on one side and then on the other
// (the order swapping each round), in two long-lived worker processes (bench/ort-worker.ts); the table shows medians.
//
// Not a test: run with `npm run bench:ort` (or within `npm run bench`), or
// `node --import tsx bench/ort.ts [--quick] [--rounds=3] [--seconds=1] [--no-wasm]`. Without onnxruntime (or without
// python3 and torch for the export) it says so and skips.

import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { NODE_TSX, benchFile, flag, fmt, median, option, printTable, workerEnv } from './common.js';
import { GPT_CONFIG, S2S_BATCH, S2S_CONFIG, S2S_LEN } from './models.js';
import { exportGptOnnx, exportS2sOnnx } from './ort-export.js';
import { CHECK_B, DEC_TOKENS, GEN_TOKENS } from './ort-worker.js';
import type { OrtSide, WorkerConfig } from './ort-worker.js';
import { describePeak, measureFmaPeak } from './peak.js';

/** Largest |qkv − ORT| allowed in the logits before timing. */
export const LOGIT_TOLERANCE = 1e-3;

/** Where the exported graphs lie: the GPT's folder and the S2S file. */
interface Onnx { gpt: string; s2s: string }

/** A worker process that answers one JSON line per request. */
class Worker {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly pending: ((line: string) => void)[] = [];
  private err = '';
  private exited = '';
  private readonly ready: Promise<string>;

  constructor(readonly side: OrtSide, onnx: Onnx, threads: number) {
    const config: WorkerConfig = {
      vocab: GPT_CONFIG.vocab, dModel: GPT_CONFIG.dModel, heads: GPT_CONFIG.heads, layers: GPT_CONFIG.layers, context: GPT_CONFIG.context,
      s2sVocab: S2S_CONFIG.srcVocab, s2sLen: S2S_LEN,
    };
    const args = [benchFile('ort-worker.ts'), `--side=${side}`, `--onnx=${onnx.gpt}`, `--s2s=${onnx.s2s}`, `--config=${JSON.stringify(config)}`];
    this.proc = spawn(process.execPath, [...NODE_TSX, ...args], { env: workerEnv(threads) });
    this.proc.stderr.on('data', (d) => { this.err = (this.err + String(d)).slice(-4000); });
    const lines = createInterface({ input: this.proc.stdout });
    lines.on('line', (l) => { if (l.startsWith('{')) this.pending.shift()?.(l); });
    this.proc.stdin.on('error', () => {}); // a worker that died: its close event reports it
    this.proc.on('close', (code) => {
      const lines = this.err.trim().split('\n');
      this.exited = `${side} worker exited (code ${code}): ${lines.find((l) => /Error\b/.test(l))?.trim() ?? lines.slice(-4).join('\n')}`;
      for (const p of this.pending.splice(0)) p(JSON.stringify({ error: this.exited }));
    });
    this.ready = new Promise((resolve) => this.pending.push(resolve));
  }

  /** Sends one request; resolves with its answer, rejects with the worker's stderr when it failed. */
  async ask<T>(req: object): Promise<T> {
    const hello = JSON.parse(await this.ready) as { error?: string };
    if (hello.error) throw new Error(hello.error);
    if (this.exited) throw new Error(this.exited);
    const line = await new Promise<string>((resolve) => { this.pending.push(resolve); this.proc.stdin.write(`${JSON.stringify(req)}\n`); });
    const out = JSON.parse(line) as T & { error?: string };
    if (out.error) throw new Error(out.error);
    return out;
  }

  close(): void {
    this.proc.stdin.end();
  }
}

interface CheckAnswer { logits: string; step: string | null; tokens: number[][]; tokensKV: number[][] | null; s2s: string }

const floats = (b64: string) => { const b = Buffer.from(b64, 'base64'); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); };

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** One comparison of a qkv side with an ORT side: the check's figures and the medians of each case. */
export interface OrtPairResult {
  qkv: OrtSide;
  ort: OrtSide;
  logitDiff: number;
  stepLogitDiff: number;
  s2sLogitDiff: number;
  tokensAgree: boolean;
  tokensKVAgree: boolean;
  /** case → [qkv tokens/s, ORT tokens/s]; an ORT "kv" case has qkv's cached figure of its base case beside it. */
  medians: Record<string, [number, number]>;
}

/**
 * Checks the pair's logits, then times `cases` in alternating turns for `rounds` rounds. Throws when a worker fails
 * or the logits differ by more than LOGIT_TOLERANCE (before any timing).
 */
async function runPair(qkvSide: OrtSide, ortSide: OrtSide, onnx: Onnx, cases: readonly string[], rounds: number, seconds: number): Promise<OrtPairResult> {
  const threads = qkvSide === 'qkv-native' ? 2 : 1;
  const q = new Worker(qkvSide, onnx, threads);
  const o = new Worker(ortSide, onnx, threads);
  try {
    const [a, b] = [await q.ask<CheckAnswer>({ op: 'check' }), await o.ask<CheckAnswer>({ op: 'check' })];
    const want = floats(a.logits);
    const logitDiff = maxAbsDiff(want, floats(b.logits));
    const stepLogitDiff = b.step ? maxAbsDiff(want, floats(b.step)) : NaN;
    const s2sLogitDiff = maxAbsDiff(floats(a.s2s), floats(b.s2s));
    console.log(`${qkvSide} vs ${ortSide}: max |logit difference| ${logitDiff.toExponential(2)} (GPT forward graph), ` +
      `${stepLogitDiff.toExponential(2)} (GPT KV-cache graph, step by step) over B${CHECK_B} T${GPT_CONFIG.context} × ${GPT_CONFIG.vocab}; ` +
      `${s2sLogitDiff.toExponential(2)} (S2S, B${CHECK_B} S${S2S_LEN} T${S2S_LEN} × ${S2S_CONFIG.tgtVocab})`);
    if (!(logitDiff <= LOGIT_TOLERANCE) || !(stepLogitDiff <= LOGIT_TOLERANCE) || !(s2sLogitDiff <= LOGIT_TOLERANCE)) {
      throw new Error(`bench/ort: ${ortSide}'s logits differ from ${qkvSide}'s by ${logitDiff} (GPT forward) / ${stepLogitDiff} (GPT KV graph) / ` +
        `${s2sLogitDiff} (S2S), expected ≤ ${LOGIT_TOLERANCE}: the export or the weight mapping is wrong`);
    }
    const same = (x: number[][] | null) => JSON.stringify(x) === JSON.stringify(a.tokens);
    const qs: Record<string, number[]> = {};
    const os: Record<string, number[]> = {};
    for (let r = 0; r < rounds; r++) {
      for (const c of cases) {
        const turns: [Worker, Record<string, number[]>][] = r % 2 ? [[o, os], [q, qs]] : [[q, qs], [o, os]];
        for (const [w, into] of turns) {
          const name = w === q && c.endsWith('kv') ? c.slice(0, -2) : c;
          if (w === q && c.endsWith('kv') && cases.includes(name)) continue; // qkv's figure of the base case serves both
          const { value } = await w.ask<{ value: number }>({ op: 'time', case: name, seconds });
          (into[c] ??= []).push(value);
        }
      }
    }
    const medians: Record<string, [number, number]> = {};
    for (const c of cases) medians[c] = [median(qs[c] ?? qs[c.slice(0, -2)] ?? []), median(os[c] ?? [])];
    return { qkv: qkvSide, ort: ortSide, logitDiff, stepLogitDiff, s2sLogitDiff, tokensAgree: same(b.tokens), tokensKVAgree: same(b.tokensKV), medians };
  } finally {
    q.close();
    o.close();
  }
}

const LABELS: Record<string, string> = {
  forward32: 'forward, B32 T128',
  forward1: 'forward, B1 T128',
  gen1: `greedy ${GEN_TOKENS} tokens, B1; ORT without cache`,
  gen1kv: `greedy ${GEN_TOKENS} tokens, B1; ORT KV-cache graph`,
  s2s64: `S2S forward, B${S2S_BATCH} S${S2S_LEN} T${S2S_LEN} (tokens B·(S+T))`,
  s2s1: `S2S forward, B1 S${S2S_LEN} T${S2S_LEN}`,
  dec4kv: `batched decoding B4 (${DEC_TOKENS} tokens a row); ORT KV-cache graph`,
  dec16kv: `batched decoding B16; ORT KV-cache graph`,
  dec64kv: `batched decoding B64; ORT KV-cache graph`,
};

/** The issues' targets: 19's for native against onnxruntime-node, 16's (ahead of onnxruntime-web) for wasm. */
const TARGETS: Record<string, Record<string, string>> = {
  'ort-node': { forward32: '≥ 2× (19)', forward1: '≥ 1.5× (19)' },
  'ort-web': { forward32: '> 1× (16)', forward1: '> 1× (16)' },
};

/** Whether `name` resolves from here; the bench skips what is missing. */
function installed(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}

function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average ${loadavg().map((x) => x.toFixed(2)).join(', ')}`;
  }
}

/** Runs the ORT comparison and prints its tables; returns the pairs it ran (none when onnxruntime is missing). */
export async function benchOrt(quick: boolean, rounds: number, opts: { seconds?: number; wasm?: boolean } = {}): Promise<OrtPairResult[]> {
  const seconds = opts.seconds ?? (quick ? 0.5 : 1);
  const node = installed('onnxruntime-node');
  const web = installed('onnxruntime-web') && opts.wasm !== false;
  if (!node && !web) {
    console.log('\nbench: onnxruntime-node and onnxruntime-web are not installed (dev dependencies: npm ci installs them); skipping the ORT tables');
    return [];
  }
  let onnx: Onnx;
  try {
    onnx = { gpt: exportGptOnnx().dir, s2s: exportS2sOnnx().forward };
  } catch (e) {
    console.log(`\nbench: cannot export the GPT to ONNX, skipping the ORT tables (${(e as Error).message})`);
    return [];
  }
  console.log(`\nqkv against onnxruntime on the benchmark GPT and S2S (ONNX in ${onnx.gpt}, ${onnx.s2s}); ${describePeak(measureFmaPeak([1, 2]))}\n${uptime()}`);
  // Batched decoding against ORT's KV-cache graph only: re-running the prefix at B64 takes seconds a call.
  const native = ['forward32', 'forward1', 'gen1', 'gen1kv', 'dec4kv', 'dec16kv', 'dec64kv', 's2s64', 's2s1'];
  const wasm = ['forward32', 'forward1', 'gen1', 'gen1kv', 's2s64', 's2s1'];
  const pairs: [OrtSide, OrtSide, string[], string][] = [];
  if (node) pairs.push(['qkv-native', 'ort-node', native, 'qkv native (QKV_THREADS=2) vs onnxruntime-node CPU EP (intraOpNumThreads 2)']);
  else console.log('bench: onnxruntime-node is not installed; skipping qkv native vs ORT');
  if (web) pairs.push(['qkv-wasm', 'ort-web', wasm, 'qkv wasm backend (1 thread) vs onnxruntime-web wasm EP in Node (numThreads 1; its only builds are SIMD128)']);
  else if (opts.wasm !== false) console.log('bench: onnxruntime-web is not installed; skipping qkv wasm vs ORT web');
  const out: OrtPairResult[] = [];
  for (const [qs, os, cases, title] of pairs) {
    let r: OrtPairResult;
    try {
      r = await runPair(qs, os, onnx, cases, rounds, seconds);
    } catch (e) {
      console.log(`bench: ${title} FAILED: ${(e as Error).message}`);
      process.exitCode = 1;
      continue;
    }
    out.push(r);
    printTable(
      `${title}, tokens/s, median of ${rounds} round(s) of ~${seconds} s turns; qkv decodes with its KV cache throughout\n` +
        `(greedy tokens: ORT without cache ${r.tokensAgree ? 'agree' : 'DIFFER'}, ORT KV graph ${r.tokensKVAgree ? 'agree' : 'DIFFER'} with qkv's)`,
      ['case', 'qkv', 'ORT', 'qkv/ORT', 'target'],
      cases.map((c) => { const [a, b] = r.medians[c]; return [LABELS[c] ?? c, fmt(a), fmt(b), `${fmt(a / b, 2)}×`, TARGETS[os]?.[c] ?? '']; }),
    );
  }
  console.log(uptime());
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = flag('quick');
  await benchOrt(quick, Number(option('rounds', quick ? '1' : '3')), { seconds: Number(option('seconds', quick ? '0.5' : '1')), wasm: !flag('no-wasm') });
}
