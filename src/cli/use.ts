// `qkv eval`, `qkv g2p`, `qkv translate`, `qkv generate`, `qkv info`: using a trained checkpoint.

import type { GPT } from '../models/gpt.js';
import type { Transformer } from '../models/transformer.js';
import { continueText, evaluateTask, pronounce, translate } from '../train/tasks/index.js';
import type { G2PConfig, TranslateConfig } from '../train/tasks/index.js';
import { UsageError } from './errors.js';
import { formatCount, formatMetric, formatMetrics } from './format.js';
import { openCheckpoint } from './open.js';
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

/** `qkv eval <ckpt> [--split] [--beam] [--limit]`: the task's metrics, one per line. */
export async function evalCommand(path: string, flags: { split: 'valid' | 'test'; beam?: number; limit?: number }, io: Output = stdio): Promise<void> {
  const c = await openCheckpoint(path);
  const beam = c.task === 'lm' ? undefined : (flags.beam ?? (c.config as G2PConfig).beam);
  const t0 = performance.now();
  const metrics = await evaluateTask(c.config, c, { split: flags.split, beam, limit: flags.limit });
  const seconds = (performance.now() - t0) / 1000;
  io.out(`${c.task} on the ${flags.split} split${flags.limit ? ` (limit ${flags.limit})` : ''}${beam ? `, beam ${beam}` : ''}: ${c.dir} (${seconds.toFixed(1)} s)`);
  for (const [k, v] of Object.entries(metrics)) io.out(`${k.padEnd(11)} ${formatMetric(k, v)}`);
}

/** `qkv g2p <ckpt> WORD...`: one pronunciation per word. */
export async function g2pCommand(path: string, words: string[], flags: { beam?: number }, io: Output = stdio): Promise<void> {
  const list = await inputs(words, 'words');
  const c = await openCheckpoint<Transformer>(path, 'g2p');
  const cfg = c.config as G2PConfig;
  const out = pronounce(c, list, { beam: flags.beam ?? cfg.beam, lengthPenalty: cfg.lengthPenalty });
  const width = Math.max(...list.map((w) => w.length));
  list.forEach((w, i) => io.out(`${w.toUpperCase().padEnd(width)}  ${out[i]}`));
}

/** `qkv translate <ckpt> "text"...`: one translation per line. */
export async function translateCommand(path: string, texts: string[], flags: { beam?: number }, io: Output = stdio): Promise<void> {
  const list = await inputs(texts, 'text');
  const c = await openCheckpoint<Transformer>(path, 'translate');
  const cfg = c.config as TranslateConfig;
  for (const line of translate(c, list, { beam: flags.beam ?? cfg.beam, lengthPenalty: cfg.lengthPenalty })) io.out(line);
}

/** `qkv generate <ckpt> --prompt "..."`: the prompt, then the continuation streamed to stdout. */
export async function generateCommand(path: string, flags: { prompt: string; tokens: number; temperature: number; topK?: number; topP?: number; seed: number }): Promise<void> {
  const c = await openCheckpoint<GPT>(path, 'lm');
  process.stdout.write(flags.prompt);
  continueText(c, flags.prompt, {
    tokens: flags.tokens, temperature: flags.temperature, topK: flags.topK, topP: flags.topP, seed: flags.seed,
    onText: (s) => process.stdout.write(s),
  });
  process.stdout.write('\n');
}

/** `qkv info <ckpt>`: task, model config, parameter count, training step and metrics. */
export async function infoCommand(path: string, io: Output = stdio): Promise<void> {
  const c = await openCheckpoint(path);
  const ck = c.ck;
  const params = c.model.parameters().reduce((n, p) => n + p.size, 0);
  const row = (k: string, v: string) => io.out(`${k.padEnd(11)} ${v}`);
  row('checkpoint', c.dir);
  row('task', `${c.task} (preset ${c.config.preset})`);
  row('model', `${ck.config.modelKind}: ${Object.entries(ck.config.model).map(([k, v]) => `${k} ${String(v)}`).join(', ')}`);
  row('parameters', formatCount(params));
  const tok = (t: { vocabSize: number; constructor: { name: string } }) => `${t.constructor.name} (${formatCount(t.vocabSize)} tokens)`;
  row('tokenizer', c.targetTokenizer !== c.tokenizer ? `source ${tok(c.tokenizer)}, target ${tok(c.targetTokenizer)}` : tok(c.tokenizer));
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
