// Parser fuzzing: mutated safetensors, tokenizer.json, config.json and checkpoint folders, each outcome counted (clear error, crash, hang, silent-wrong).
//
// Run:  npm run fuzz:parsers -- [--count 10000] [--seed 1] [--budget-ms 5000] [--parsers safetensors,tokenizer,config,folder]
// The bounded slice in npm test is test/fuzz/parsers-fuzz.test.ts.
//
// Inputs run in a child process, one after another; the parent kills the child when one input
// runs past the budget (a hang) or the child dies (a crash), and starts a new child at the next
// input. Every input is a pure function of (seed, parser, index), so a reported index reruns alone.
//
// Outcomes:
//   clear        a QkvError subclass (FormatError, CheckpointError, ArgumentError...) whose message names the source
//   ok           the input loaded and passed the oracle (a mutation may leave a valid file)
//   crash        any other exception (TypeError, RangeError...), or a QkvError not naming the source, or the child dying
//   hang         over the budget
//   silentWrong  loaded without error but the oracle disagrees:
//                safetensors: the tensors differ from an independent reading of the bytes (spec rules:
//                  header starts with '{', exact coverage, sizes match shapes), or the reference rules reject the file;
//                tokenizer:   ids outside the vocabulary, decode(encode) of byte-level BPE not the text, a save → load
//                  that encodes differently, or a mutation that left the JSON equal encoding differently;
//                config / folder: the model's weights differ from model.safetensors, a config field the model
//                  reports differs from the file's, a tokenizer's size differs from the model's vocabulary, or
//                  the logits are not finite.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { QkvError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { GPT } from '../../src/models/gpt.js';
import { Transformer } from '../../src/models/transformer.js';
import { tensor } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/index.js';
import { ByteLevelBPE, CharTokenizer, SymbolTokenizer, tokenizerFromJSON } from '../../src/tokenizers/index.js';
import type { Tokenizer } from '../../src/tokenizers/index.js';
import { checkpointFiles, readCheckpoint } from '../../src/train/checkpoint.js';
import { modelFromCheckpoint } from '../../src/train/checkpoint-models.js';

export const PARSERS = ['safetensors', 'tokenizer', 'config', 'folder'] as const;
export type ParserName = (typeof PARSERS)[number];
export type Outcome = 'clear' | 'ok' | 'crash' | 'hang' | 'silentWrong';
export type Counts = Record<Outcome, number>;

export interface FuzzOptions {
  count: number;
  seed?: number;
  budgetMs?: number;
  parsers?: readonly ParserName[];
  /** Called for each bad outcome (crash, hang, silentWrong) with what reruns it. */
  onBad?: (parser: ParserName, index: number, outcome: Outcome, detail: string) => void;
}

const SOURCE = 'fuzz/input';
const enc = new TextEncoder();
const dec = new TextDecoder();

// ---------------------------------------------------------------- the valid bases

const letters = CharTokenizer.fromCorpus(['ABCDEFGHIJKLMNOPQRSTUVWXYZ']);
const phonemes = SymbolTokenizer.fromCorpus(['HH AH0 L OW1 W ER1 D']);
const bpe = ByteLevelBPE.train(['the cat sat on the mat, the end. 12 cats!'], { vocabSize: 290 });
const TOKENIZER_BASES: string[] = [letters, phonemes, bpe].map((t) => JSON.stringify(t.toJSON()));
const TEXTS = ['HELLO', 'the cat sat', 'HH AH0 L', 'é🙂 x\n\t12', ''];

function transformerFiles(): Map<string, Uint8Array> {
  const model = new Transformer({ srcVocab: letters.vocabSize, tgtVocab: phonemes.vocabSize, dModel: 8, heads: 2, dFF: 16, encoderLayers: 1, decoderLayers: 1, seed: 3 });
  return asBytes(checkpointFiles({ modelKind: 'transformer', modelConfig: model.config, model, tokenizer: letters, targetTokenizer: phonemes, task: { name: 'g2p', options: {} } }));
}
function gptFiles(): Map<string, Uint8Array> {
  const model = new GPT({ vocab: bpe.vocabSize, dModel: 8, heads: 2, layers: 1, context: 16, seed: 3 });
  return asBytes(checkpointFiles({ modelKind: 'gpt', modelConfig: model.config, model, tokenizer: bpe, task: { name: 'lm', options: {} } }));
}
function asBytes(files: Record<string, Uint8Array | string>): Map<string, Uint8Array> {
  return new Map(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? enc.encode(v) : v]));
}
const CHECKPOINT_BASES = [transformerFiles(), gptFiles()];

function safetensorsBase(rng: Rng): Uint8Array {
  const pick = rng.int(3);
  const t: Record<string, Tensor> = {
    'a.weight': tensor(Float32Array.from({ length: 6 }, (_, i) => i * 0.5 - 1), { shape: [2, 3] }),
    'b': tensor(Int32Array.from([7, -3, 2 ** 30]), { shape: [3], dtype: 'int32' }),
  };
  if (pick > 0) t['c.bias'] = tensor(Float64Array.from([Math.PI, -0]), { shape: [2], dtype: 'float64' });
  if (pick > 1) t['empty'] = tensor(new Float32Array(0), { shape: [0, 4] });
  return serializeSafetensors(t, pick === 1 ? undefined : { format: 'pt', note: 'fuzz' });
}

// ---------------------------------------------------------------- mutations

const HUGE = [1e8, 1e308, -1, 0, -0, 2 ** 53, 2 ** 31, 1.5, NaN, 'x', '', null, true, [], {}, '1e8', 4294967296];

function byteMutate(b: Uint8Array, rng: Rng): Uint8Array {
  const out = Uint8Array.from(b);
  const kind = rng.int(6);
  if (kind === 0 && out.length) {
    for (let k = 1 + rng.int(4); k > 0; k--) out[rng.int(out.length)] ^= 1 << rng.int(8); // bit flips
    return out;
  }
  if (kind === 1) return out.subarray(0, rng.int(out.length + 1)); // truncation
  if (kind === 2 && out.length) { out[rng.int(out.length)] = [0, 0xff, 0x22, 0x7b, 0x7d, 0x2c, 0x20, 0x80][rng.int(8)]!; return out; }
  if (kind === 3) { // insert bytes
    const at = rng.int(out.length + 1);
    const ins = Uint8Array.from({ length: 1 + rng.int(8) }, () => rng.int(256));
    return concat(out.subarray(0, at), ins, out.subarray(at));
  }
  if (kind === 4 && out.length >= 8) { // the safetensors length field, or any 8 bytes
    const at = rng.uniform() < 0.7 ? 0 : rng.int(out.length - 7);
    const v = new DataView(out.buffer, out.byteOffset + at, 8);
    v.setUint32(rng.int(2) * 4, [0, 1, 7, 0xffffffff, 0x7fffffff, 100_000_001][rng.int(6)]!, true);
    return out;
  }
  return concat(out, Uint8Array.from({ length: 1 + rng.int(16) }, () => rng.int(256))); // trailing bytes
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Paths of every value in a JSON tree (bounded), for picking one to change. */
function paths(x: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (out.length > 5000) return out;
  out.push(prefix);
  if (Array.isArray(x)) x.slice(0, 200).forEach((v, i) => paths(v, [...prefix, i], out));
  else if (x && typeof x === 'object') for (const [k, v] of Object.entries(x).slice(0, 400)) paths(v, [...prefix, k], out);
  return out;
}

function jsonMutate(x: unknown, rng: Rng): unknown {
  const root = JSON.parse(JSON.stringify(x)) as unknown;
  const all = paths(root);
  const path = all[rng.int(all.length)]!;
  if (path.length === 0) return [null, [], 'x', 7, { nested: root }][rng.int(5)];
  let parent = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const key = path[path.length - 1]!;
  const kind = rng.int(6);
  if (kind === 0) { if (Array.isArray(parent)) parent.splice(key as number, 1); else delete parent[key]; } // field deletion
  else if (kind === 1) parent[key] = HUGE[rng.int(HUGE.length)]; // type swap, huge numbers
  else if (kind === 2) { // deep nesting, spliced in as text by toText (JSON.stringify itself would overflow the stack)
    parent[key] = `${DEEP}${[10, 1000, 100_000][rng.int(3)]}${rng.int(2) ? '[' : '{'}`;
  } else if (kind === 3) { const v = parent[key]; parent[key] = typeof v === 'number' ? v * [2, -1, 1e6, 0.5][rng.int(4)]! : typeof v === 'string' ? v + ['\u0000', '(a+)+$', '"', v][rng.int(4)] : v; }
  else if (kind === 4 && !Array.isArray(parent)) parent[['__proto__', 'extra', 'constructor'][rng.int(3)]!] = parent[key]; // an extra field
  else if (Array.isArray(parent[key])) (parent[key] as unknown[]).push(...(parent[key] as unknown[]).slice(0, 3)); // duplicate items
  else parent[key] = String(parent[key]);
  return root;
}

const DEEP = '\u0001deep:';

/** JSON text of a mutated tree, with each DEEP marker replaced by that many nested arrays or objects. */
function toText(x: unknown): string {
  const s = JSON.stringify(x) ?? 'null';
  return s.replace(/"\\u0001deep:(\d+)([[{])"/g, (_m, n: string, open: string) => {
    const depth = Number(n);
    return open === '[' ? '['.repeat(depth) + '1' + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  });
}

function textMutate(text: string, rng: Rng): string {
  let tree: unknown;
  try { tree = JSON.parse(text); } catch { return dec.decode(byteMutate(enc.encode(text), rng)); } // mutated twice: no longer JSON
  if (rng.uniform() < 0.6) {
    try { return toText(jsonMutate(tree, rng)); } catch { return dec.decode(byteMutate(enc.encode(text), rng)); } // too deep to copy
  }
  const r = rng.uniform();
  if (r < 0.3) return ['\uFEFF', ' ', '\n'][rng.int(3)] + text;
  return dec.decode(byteMutate(enc.encode(text), rng));
}

// ---------------------------------------------------------------- one input

interface Result { outcome: Outcome; detail: string }

/** Runs input `index` of `parser`; the same (seed, parser, index) is always the same input. */
export function runOne(parser: ParserName, index: number, seed: number): Result {
  const rng = new Rng(seed * 1_000_003 + PARSERS.indexOf(parser) * 7_919 + index * 104_729);
  const target = TARGETS[parser];
  // The mutation itself must not fail; if it does, that is the fuzzer's bug, not the parser's.
  const input = target.make(rng);
  try {
    const wrong = target.check(input);
    return wrong === null ? { outcome: 'ok', detail: '' } : { outcome: 'silentWrong', detail: wrong };
  } catch (e) {
    if (e instanceof QkvError && e.message.includes(SOURCE)) return { outcome: 'clear', detail: '' };
    const where = String((e as Error)?.stack ?? '').split('\n').filter((l) => !/Array\.(join|toString)|JSON\.stringify/.test(l)).slice(1, 4).map((l) => l.trim()).join(' < ');
    return { outcome: 'crash', detail: `${(e as Error)?.name}: ${String((e as Error)?.message ?? e).slice(0, 300)} at ${where}` };
  }
}

/** Each parser's input maker (mutations of a valid base) and oracle (null when the input was read rightly). */
interface FuzzTarget<I> { make(rng: Rng): I; check(input: I): string | null }

const TARGETS: { [P in ParserName]: FuzzTarget<any> } = {
  safetensors: {
    make: (rng): Uint8Array => byteOrHeaderMutate(safetensorsBase(rng), rng),
    check(bytes: Uint8Array) {
      const got = parseSafetensors(bytes, { source: SOURCE });
      const want = referenceSafetensors(bytes);
      if (typeof want === 'string') return `accepted a file the reference rules reject: ${want}`;
      if (got.tensors.size !== want.size) return `read ${got.tensors.size} tensors, the bytes hold ${want.size}`;
      for (const [name, w] of want) {
        const t = got.tensors.get(name);
        if (!t) return `tensor "${name}" missing`;
        if (t.shape.join() !== w.shape.join()) return `tensor "${name}" shape ${t.shape} vs ${w.shape}`;
        const a = t.toArray();
        for (let i = 0; i < w.values.length; i++) if (!Object.is(a[i], w.values[i]) && !(Number.isNaN(a[i]) && Number.isNaN(w.values[i]))) return `tensor "${name}"[${i}] is ${a[i]}, the bytes say ${w.values[i]}`;
      }
      return null;
    },
  },
  tokenizer: {
    make(rng): { base: string; text: string } {
      const base = TOKENIZER_BASES[rng.int(TOKENIZER_BASES.length)]!;
      return { base, text: textMutate(base, rng) };
    },
    check: ({ base, text }: { base: string; text: string }) => checkTokenizer(tokenizerFromJSON(text, SOURCE), base, text),
  },
  config: {
    make(rng): Map<string, Uint8Array> {
      const files = new Map(CHECKPOINT_BASES[rng.int(CHECKPOINT_BASES.length)]!);
      files.set('config.json', enc.encode(textMutate(dec.decode(files.get('config.json')!), rng)));
      return files;
    },
    check: loadAndCheck,
  },
  folder: {
    make(rng): Map<string, Uint8Array> {
      const files = new Map(CHECKPOINT_BASES[rng.int(CHECKPOINT_BASES.length)]!);
      const names = [...files.keys()];
      for (let k = 1 + rng.int(2); k > 0; k--) {
        const kind = rng.int(5);
        const name = names[rng.int(names.length)]!;
        if (kind === 0) files.delete(name);
        else if (kind === 1) files.set(name, files.get(names[rng.int(names.length)]!) ?? new Uint8Array()); // a file swapped for another
        else if (kind === 2 && files.has(name)) files.set(name, name.endsWith('.json') ? enc.encode(textMutate(dec.decode(files.get(name)!), rng)) : byteOrHeaderMutate(files.get(name)!, rng));
        else if (kind === 3) files.set(['target_tokenizer.json', 'optimizer.safetensors', 'trainer_state.json'][rng.int(3)]!, files.get('tokenizer.json') ?? new Uint8Array([1]));
        else if (files.has(name)) files.set(name, files.get(name)!.subarray(0, rng.int(files.get(name)!.length)));
      }
      return files;
    },
    check: loadAndCheck,
  },
};

function byteOrHeaderMutate(b: Uint8Array, rng: Rng): Uint8Array {
  if (rng.uniform() < 0.5 || b.length < 8) return byteMutate(b, rng);
  // Change the header JSON and write it back with a correct length: reaches the field checks.
  const n = new DataView(b.buffer, b.byteOffset).getUint32(0, true);
  if (8 + n > b.length) return byteMutate(b, rng);
  let header: unknown;
  try { header = JSON.parse(dec.decode(b.subarray(8, 8 + n))); } catch { return byteMutate(b, rng); }
  let h: Uint8Array;
  try { h = enc.encode(toText(jsonMutate(header, rng))); } catch { return byteMutate(b, rng); } // a header too deep to copy
  const len = new Uint8Array(8);
  new DataView(len.buffer).setUint32(0, h.length, true);
  return concat(len, h, b.subarray(8 + n));
}

/** An independent reading of a safetensors file by the format's rules; a string says why it is invalid. */
function referenceSafetensors(b: Uint8Array): Map<string, { shape: number[]; values: number[] }> | string {
  if (b.length < 8) return 'short';
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dv.getUint32(4, true) !== 0) return 'length ≥ 2^32';
  const n = dv.getUint32(0, true);
  if (8 + n > b.length) return 'length past end';
  let text: string;
  try { text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b.subarray(8, 8 + n)); } catch { return 'not UTF-8'; }
  if (!text.startsWith('{')) return 'does not start with {';
  const header = JSON.parse(text) as Record<string, any>;
  const size: Record<string, number> = { F64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, I64: 8, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1 };
  const out = new Map<string, { shape: number[]; values: number[] }>();
  const ranges: [number, number][] = [];
  const dataLen = b.length - 8 - n;
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const numel = (e.shape as number[]).reduce((p, d) => p * d, 1);
    const [s, t] = e.data_offsets as [number, number];
    if (t - s !== numel * size[e.dtype]! || t > dataLen) return `tensor ${name} sizes`;
    ranges.push([s, t]);
    const values: number[] = [];
    const at = 8 + n + s;
    for (let i = 0; i < numel; i++) {
      const p = at + i * size[e.dtype]!;
      switch (e.dtype) {
        case 'F32': values.push(dv.getFloat32(p, true)); break;
        case 'F64': values.push(dv.getFloat64(p, true)); break;
        case 'I32': values.push(dv.getInt32(p, true)); break;
        case 'I16': values.push(dv.getInt16(p, true)); break;
        case 'U16': values.push(dv.getUint16(p, true)); break;
        case 'I8': values.push(dv.getInt8(p)); break;
        case 'U8': case 'BOOL': values.push(dv.getUint8(p)); break;
        case 'BF16': values.push(new Float32Array(new Uint32Array([dv.getUint16(p, true) << 16]).buffer)[0]!); break;
        case 'I64': values.push(Number(dv.getBigInt64(p, true))); break;
        case 'F16': { const h = dv.getUint16(p, true); const ex = (h >> 10) & 31, f = h & 1023, sg = h & 0x8000 ? -1 : 1; values.push(ex === 0 ? sg * f * 2 ** -24 : ex === 31 ? (f ? NaN : sg * Infinity) : sg * (1 + f / 1024) * 2 ** (ex - 15)); break; }
      }
    }
    out.set(name, { shape: e.shape, values });
  }
  ranges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let pos = 0;
  for (const [s, t] of ranges) { if (s !== pos) return 'overlap or hole'; pos = t; }
  if (pos !== dataLen) return 'trailing bytes';
  return out;
}

function checkTokenizer(tok: Tokenizer, base: string, text: string): string | null {
  let same = false;
  try { same = JSON.stringify(JSON.parse(text)) === JSON.stringify(JSON.parse(base)); } catch { /* not JSON-equal */ }
  const original = tokenizerFromJSON(base, 'base');
  const again = tokenizerFromJSON(JSON.stringify(tok.toJSON()), 'again');
  for (const s of TEXTS) {
    const ids = tok.encode(s, { addSpecial: true });
    if (ids.some((id) => !Number.isInteger(id) || id < 0 || id >= tok.vocabSize)) return `encode(${JSON.stringify(s)}) gave ids outside [0, ${tok.vocabSize})`;
    tok.decode(ids);
    if (tok instanceof ByteLevelBPE && tok.unkId < 0 && tok.decode(tok.encode(s)) !== s) return `byte-level decode(encode(${JSON.stringify(s)})) is not the text`;
    if (again.encode(s).join() !== tok.encode(s).join()) return `save → load encodes ${JSON.stringify(s)} differently`;
    if (same && original.encode(s).join() !== tok.encode(s).join()) return `an unchanged file encodes ${JSON.stringify(s)} differently`;
  }
  return null;
}

function loadAndCheck(files: Map<string, Uint8Array>): string | null {
  const ck = readCheckpoint(files, { source: SOURCE });
  const model = modelFromCheckpoint(ck);
  model.eval();
  const file = parseSafetensors(files.get('model.safetensors')!).tensors;
  for (const [name, t] of model.stateDict()) {
    const w = file.get(name);
    if (!w || w.toArray().join() !== t.toArray().join()) return `weight ${name} differs from model.safetensors`;
  }
  const stated = JSON.parse(dec.decode(files.get('config.json')!)).model as Record<string, unknown>;
  const config = (model as unknown as { config: Record<string, unknown> }).config;
  for (const [k, v] of Object.entries(config)) if (k !== 'backend' && k in stated && JSON.stringify(stated[k]) !== JSON.stringify(v)) return `config ${k}: model has ${JSON.stringify(v)}, file says ${JSON.stringify(stated[k])}`;
  const ids = tensor([[1, 2, 3]], { dtype: 'int32' });
  let logits: Tensor;
  if (model instanceof Transformer) {
    if (ck.tokenizer && ck.tokenizer.vocabSize !== config.srcVocab) return 'source tokenizer size differs from srcVocab';
    if (ck.targetTokenizer && ck.targetTokenizer.vocabSize !== config.tgtVocab) return 'target tokenizer size differs from tgtVocab';
    logits = model.forward(ids, ids).logits;
  } else {
    if (ck.tokenizer && ck.tokenizer.vocabSize !== config.vocab) return 'tokenizer size differs from vocab';
    logits = (model as GPT).forward(ids).logits;
  }
  if (!Array.from(logits.toArray()).every(Number.isFinite)) return 'non-finite logits';
  return null;
}

// ---------------------------------------------------------------- the runner

const zero = (): Counts => ({ clear: 0, ok: 0, crash: 0, hang: 0, silentWrong: 0 });

/**
 * Runs `count` inputs of each parser in child processes and counts the outcomes.
 *
 * @example
 * const counts = await fuzzParsers({ count: 100, seed: 1 });
 * counts.safetensors.crash; // 0
 */
export async function fuzzParsers(o: FuzzOptions): Promise<Record<ParserName, Counts>> {
  const seed = o.seed ?? 1;
  const budget = o.budgetMs ?? 5000;
  const out = {} as Record<ParserName, Counts>;
  for (const parser of o.parsers ?? PARSERS) {
    const counts = (out[parser] = zero());
    let next = 0;
    while (next < o.count) {
      next = await runChild(parser, next, o.count, seed, budget, (i, r) => {
        counts[r.outcome]++;
        if (r.outcome !== 'ok' && r.outcome !== 'clear') o.onBad?.(parser, i, r.outcome, r.detail);
      });
    }
  }
  return out;
}

/** Runs inputs [from, count) in one child until it ends, hangs or dies; returns the next index to run. */
function runChild(parser: ParserName, from: number, count: number, seed: number, budget: number, record: (i: number, r: Result) => void): Promise<number> {
  return new Promise((resolve) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child', parser, String(from), String(count), String(seed)], {
      execArgv: ['--import', 'tsx', '--max-old-space-size=2048'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, QKV_THREADS: '1' },
    });
    let current = from;
    let done = false;
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr = (stderr + d).slice(-500); });
    // The first input also pays for the child's start-up.
    let timer = setTimeout(onHang, budget + 10_000);
    function onHang(): void {
      if (done) return;
      done = true;
      child.kill('SIGKILL');
      record(current, { outcome: 'hang', detail: `over ${budget} ms` });
      resolve(current + 1);
    }
    child.on('message', (m: { i: number; outcome: Outcome; detail: string }) => {
      record(m.i, m);
      current = m.i + 1;
      clearTimeout(timer);
      timer = setTimeout(onHang, budget);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (done) return;
      done = true;
      if (current >= count) return resolve(count);
      record(current, { outcome: 'crash', detail: `process died (code ${code}, signal ${signal}): ${stderr}` });
      resolve(current + 1);
    });
  });
}

async function childMain(parser: ParserName, from: number, count: number, seed: number): Promise<void> {
  for (let i = from; i < count; i++) {
    const r = runOne(parser, i, seed);
    await new Promise<void>((res) => process.send!({ i, ...r }, () => res()));
  }
  process.disconnect();
}

function flag(args: string[], name: string, fallback: string): string {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1]! : fallback;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    await childMain(args[1] as ParserName, Number(args[2]), Number(args[3]), Number(args[4]));
  } else {
    const count = Number(flag(args, '--count', '10000'));
    const seed = Number(flag(args, '--seed', '1'));
    const budgetMs = Number(flag(args, '--budget-ms', '5000'));
    const parsers = flag(args, '--parsers', PARSERS.join(',')).split(',') as ParserName[];
    const t0 = Date.now();
    const counts = await fuzzParsers({
      count, seed, budgetMs, parsers,
      onBad: (p, i, outcome, detail) => console.log(`${outcome} ${p} #${i} (seed ${seed}): ${detail}`),
    });
    for (const [p, c] of Object.entries(counts)) {
      console.log(`${p.padEnd(12)} ${count} inputs: clear ${c.clear}, ok ${c.ok}, crash ${c.crash}, hang ${c.hang}, silentWrong ${c.silentWrong}`);
    }
    console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const bad = Object.values(counts).reduce((n, c) => n + c.crash + c.hang + c.silentWrong, 0);
    process.exitCode = bad > 0 ? 1 : 0;
  }
}
