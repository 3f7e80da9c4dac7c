// `qkv eval`, `qkv g2p`, `qkv translate`, `qkv seq2seq`, `qkv generate`, `qkv info`: using a trained checkpoint.

import type { GPT } from '../models/gpt.js';
import { LIMITS } from '../core/limits.js';
import { DEFAULT_MAX_NEW_TOKENS } from '../inference/causal.js';
import type { Seq2SeqGenerationOptions } from '../inference/seq2seq.js';
import { ENCODER_DECODER_KINDS } from '../inference/model.js';
import type { EncoderDecoder } from '../inference/model.js';
import { pipeline } from '../node/pretrained.js';
import { defaultSplit, evaluateLm, evaluatePairsFile, evaluateTask, usesOwnData } from '../train/tasks/index.js';
import type { EvaluateOptions, G2PConfig, TrainedModel } from '../train/tasks/index.js';
import { BadRowError, BadRows } from '../data/user-files.js';
import { readProgress } from '../node/read-progress.js';
import { CliError, UsageError } from './errors.js';
import { formatCount, formatMetric, formatMetrics } from './format.js';
import { openCheckpoint } from './open.js';
import type { OpenedCheckpoint } from './open.js';
import { stdio } from './train.js';
import type { Output } from './train.js';

/** Lines of text from the arguments, or from stdin when there are none and stdin is a pipe. */
async function inputs(args: string[], what: string): Promise<string[]> {
  if (args.length > 0) return args;
  if (process.stdin.isTTY) throw new UsageError(`no ${what} given, expected at least one argument (or lines on stdin)`);
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l);
  if (lines.length === 0) throw new UsageError(`no ${what} given, expected at least one argument (or lines on stdin)`);
  return lines;
}

/** Answers a long input list in calls of at most LIMITS.maxBatch texts (the pipeline's cap), in order. */
async function inBatches(list: readonly string[], answer: (batch: string[]) => Promise<string[]>): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < list.length; i += LIMITS.maxBatch) out.push(...await answer(list.slice(i, i + LIMITS.maxBatch)));
  return out;
}

/** One value of a flag that has an alias (`--num-beams` and `--beam`); both given and different is a usage error. */
function aliased(value: number | undefined, alias: number | undefined, name: string, aliasName: string): number | undefined {
  if (value !== undefined && alias !== undefined && value !== alias) throw new UsageError(`${name} ${value} and its alias ${aliasName} ${alias} disagree, expected one of them`);
  return value ?? alias;
}

/** Flags of the commands that decode with an encoder-decoder (HF's names; --beam is the old name of --num-beams). */
interface Seq2SeqFlags { numBeams?: number; beam?: number; lengthPenalty?: number; maxNewTokens?: number }

function seq2seqOptions(flags: Seq2SeqFlags): Seq2SeqGenerationOptions {
  return { numBeams: aliased(flags.numBeams, flags.beam, '--num-beams', '--beam'), lengthPenalty: flags.lengthPenalty, maxNewTokens: flags.maxNewTokens };
}

/** The flags of `qkv eval`. */
export interface EvalFlags {
  /** Default: test for the packaged datasets, valid for your own data (which has no test split). */
  split?: 'valid' | 'test';
  numBeams?: number;
  /** Alias of numBeams (the flag's old name). */
  beam?: number;
  limit?: number;
  /** Score this file (pairs, or text for a language model) instead of a split. */
  file?: string;
  skipBadRows?: boolean;
}

/** Decoding settings of a checkpoint's config (beam 4 and α 0.6 when it has none). */
function decoding(c: { config: unknown }): { beam: number; lengthPenalty: number } {
  const cfg = (c.config ?? {}) as Partial<G2PConfig>;
  return { beam: cfg.beam ?? 4, lengthPenalty: cfg.lengthPenalty ?? 0.6 };
}

/** `qkv eval <ckpt> [--split] [--num-beams] [--limit] [--file]`: the task's metrics, one per line. */
export async function evalCommand(path: string, flags: EvalFlags, io: Output = stdio): Promise<void> {
  const asked = aliased(flags.numBeams, flags.beam, '--num-beams', '--beam');
  const c = await openCheckpoint(path, { needTokenizer: true });
  const beam = !ENCODER_DECODER_KINDS.includes(c.ck.config.modelKind) ? undefined : (asked ?? decoding(c).beam);
  const t0 = performance.now();
  const badRows = new BadRows(Boolean(flags.skipBadRows || (c.config as { skipBadRows?: boolean } | null)?.skipBadRows));
  const reading = readProgress();
  let scored: { what: string; metrics: Record<string, number> };
  try {
    scored = await score(c, flags, { beam, badRows, onProgress: reading.onProgress });
  } catch (e) {
    if (e instanceof BadRowError) throw new CliError(`${e.message}; pass --skip-bad-rows to skip and count such rows`);
    throw e;
  } finally {
    reading.stop();
  }
  const skipped = badRows.summary();
  if (skipped) io.err(skipped);
  const seconds = (performance.now() - t0) / 1000;
  io.out(`${scored.what}${flags.limit ? ` (limit ${flags.limit})` : ''}${beam ? `, beam ${beam}` : ''}: ${c.dir} (${seconds.toFixed(1)} s)`);
  for (const [k, v] of Object.entries(scored.metrics)) io.out(`${k.padEnd(11)} ${formatMetric(k, v)}`);
}

/** What qkv eval scores: the --file with the metrics of the model's kind (any checkpoint), or the task's split. */
async function score(c: OpenedCheckpoint, flags: EvalFlags, o: Pick<EvaluateOptions, 'beam' | 'badRows' | 'onProgress'>): Promise<{ what: string; metrics: Record<string, number> }> {
  const gpt = c.ck.config.modelKind === 'gpt';
  if (c.config) {
    const split = flags.split ?? defaultSplit(c.config);
    const metrics = await evaluateTask(c.config, c, { ...o, split, limit: flags.limit, file: flags.file });
    return { what: `${c.task} on ${flags.file ?? `the ${split} split`}`, metrics };
  }
  if (!gpt && !ENCODER_DECODER_KINDS.includes(c.ck.config.modelKind)) {
    throw new CliError(`${c.dir}: a ${c.ck.config.modelKind} checkpoint trained on ${c.task ? `task '${c.task}'` : 'no recorded task'}, which qkv eval scores only for the tasks mlm and classify`);
  }
  if (flags.file === undefined) {
    const data = gpt ? 'a text file (.txt, or JSON Lines {"text": ...})' : 'a file of pairs (source<TAB>target, or JSON Lines {"source": ..., "target": ...})';
    throw new CliError(`${c.dir}: trained on ${c.task ? `task '${c.task}'` : 'no recorded task'}, whose data qkv eval does not know; pass --file with ${data} to score it`);
  }
  const what = `${c.task || 'a checkpoint'} on ${flags.file}`;
  if (gpt) return { what, metrics: (await evaluateLm(c as unknown as TrainedModel<GPT>, null, { ...o, split: 'valid', limit: flags.limit, file: flags.file })).metrics };
  const pairs = { ...o, beam: o.beam!, lengthPenalty: decoding(c).lengthPenalty, limit: flags.limit };
  return { what, metrics: (await evaluatePairsFile(c as unknown as TrainedModel<EncoderDecoder>, flags.file, pairs)).metrics };
}

/** `qkv g2p <ckpt> WORD...`: one pronunciation per word (the inference room's g2p pipeline). */
export async function g2pCommand(path: string, words: string[], flags: Seq2SeqFlags, io: Output = stdio): Promise<void> {
  const list = await inputs(words, 'words');
  const options = seq2seqOptions(flags);
  const g2p = await pipeline('g2p', path);
  const out = await inBatches(list, (batch) => g2p(batch, options));
  const width = Math.max(...list.map((w) => w.length));
  list.forEach((w, i) => io.out(`${w.toUpperCase().padEnd(width)}  ${out[i]}`));
}

/** `qkv translate <ckpt> "text"...`: one translation per line (the translation pipeline). */
export async function translateCommand(path: string, texts: string[], flags: Seq2SeqFlags, io: Output = stdio): Promise<void> {
  const list = await inputs(texts, 'text');
  const options = seq2seqOptions(flags);
  const translate = await pipeline('translation', path);
  for (const line of await inBatches(list, (batch) => translate(batch, options))) io.out(line);
}

/** `qkv seq2seq <ckpt> INPUT...`: one output per input, decoded by any encoder-decoder checkpoint (the text2text-generation pipeline). */
export async function seq2seqCommand(path: string, texts: string[], flags: Seq2SeqFlags, io: Output = stdio): Promise<void> {
  const list = await inputs(texts, 'inputs');
  const options = seq2seqOptions(flags);
  const transduce = await pipeline('text2text-generation', path);
  for (const line of await inBatches(list, (batch) => transduce(batch, options))) io.out(line);
}

/** Flags of `qkv generate`: HF's names, with --tokens the old name of --max-new-tokens and --temperature 0 meaning greedy. */
interface GenerateFlags { prompt: string; maxNewTokens?: number; tokens?: number; doSample?: boolean; temperature: number; topK?: number; topP?: number; seed: number }

/** `qkv generate <ckpt> --prompt "..."`: the prompt, then the continuation streamed to stdout (the text-generation pipeline). */
export async function generateCommand(path: string, flags: GenerateFlags): Promise<void> {
  const maxNewTokens = aliased(flags.maxNewTokens, flags.tokens, '--max-new-tokens', '--tokens') ?? DEFAULT_MAX_NEW_TOKENS;
  const generate = await pipeline('text-generation', path);
  // The command samples unless told not to (--no-do-sample or --temperature 0); the API is greedy unless told to sample, as HF.
  const doSample = (flags.doSample ?? true) && flags.temperature > 0;
  const pieces = generate.stream(flags.prompt, {
    maxNewTokens, doSample, temperature: doSample ? flags.temperature : undefined, topK: flags.topK, topP: flags.topP, seed: flags.seed,
    // Nothing is cut silently: a request past the model's context says what was cut, on stderr (stdout holds the text).
    onWarning: (message) => process.stderr.write(`qkv: warning: ${message}\n`),
  });
  for await (const piece of pieces) process.stdout.write(piece);
  process.stdout.write('\n');
}

/** `qkv info <ckpt>`: task, model config, parameter count, training step and metrics. */
export async function infoCommand(path: string, io: Output = stdio): Promise<void> {
  const c = await openCheckpoint(path);
  const ck = c.ck;
  const params = c.model.parameters().reduce((n, p) => n + p.size, 0);
  const row = (k: string, v: string) => io.out(`${k.padEnd(11)} ${v}`);
  row('checkpoint', c.dir);
  row('task', c.config ? `${c.task} (preset ${c.config.preset})` : c.task ? `${c.task} (a custom task: qkv eval needs --file)` : 'none recorded');
  const own = c.config && usesOwnData(c.config) ? (c.config as { train: string; valid: string | null }) : null;
  if (own) row('data', `train ${own.train}${own.valid ? `, valid ${own.valid}` : ', valid held out by hash'}`);
  row('model', `${ck.config.modelKind}: ${Object.entries(ck.config.model).map(([k, v]) => `${k} ${String(v)}`).join(', ')}`);
  row('parameters', formatCount(params));
  const tok = (t: { vocabSize: number; constructor: { name: string } }) => `${t.constructor.name} (${formatCount(t.vocabSize)} tokens)`;
  if (!c.tokenizer) row('tokenizer', 'none saved');
  else row('tokenizer', c.targetTokenizer !== c.tokenizer ? `source ${tok(c.tokenizer)}, target ${tok(c.targetTokenizer)}` : tok(c.tokenizer));
  const s = ck.trainerState;
  if (s) {
    row('trained', `step ${formatCount(s.step)}, epoch ${s.epoch}, ${s.elapsedSeconds.toFixed(0)} s of training${s.earlyStopped ? ', stopped early' : ''}`);
    if (s.best) row('best', `${s.best.metric} ${formatMetric(s.best.metric, s.best.value)} at step ${formatCount(s.best.step)}`);
  } else {
    row('trained', 'no training state in this checkpoint');
  }
  if (c.metrics) row('metrics', `at step ${formatCount(c.metrics.step)}: ${formatMetrics(c.metrics.metrics)}`);
  row('qkv', `version ${ck.config.qkvVersion}`);
}
