// `qkv train`: a task (or config.json) → checkpoints in --out, with a progress bar and one line per evaluation.

import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { findCompleteCopy, staleCopies, writeDirAtomic } from '../node/atomic-write.js';
import { SNAPSHOTS_DIR, writeSnapshot } from '../node/snapshots.js';
import { startWorkerReplicas } from '../node/data-parallel.js';
import type { WorkerReplicas } from '../node/data-parallel.js';
import { readCheckpointDir } from '../node/checkpoint.js';
import { jsonlLog } from '../node/jsonl-log.js';
import { formatSeconds, progressBar } from '../node/progress.js';
import { readProgress } from '../node/read-progress.js';
import { fanOut } from '../train/events.js';
import type { TrainEvent } from '../train/events.js';
import { checkpointFiles, loadModelState } from '../train/checkpoint.js';
import { TrainingDivergedError } from '../train/health.js';
import { Trainer } from '../train/trainer.js';
import type { SaveHook, TrainResult } from '../train/trainer.js';
import { BadRowError } from '../data/user-files.js';
import { TASK_NAMES, buildTaskRun, checkPresetName, checkTaskName, checkpointTaskConfig, initFromCheckpoint, loadInitialWeights, loadTransferredWeights, saveOptions, taskConfig } from '../train/tasks/index.js';
import type { PresetName, ReuseTokenizers, TaskConfig, TaskName, TaskRun, WeightTransfer } from '../train/tasks/index.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { CliError, UsageError } from './errors.js';
import { formatCount, formatMetrics } from './format.js';
import { METRICS_FILE, resolveCheckpointDir } from './open.js';

/** The flags of `qkv train`. */
export interface TrainFlags {
  preset?: string;
  out?: string;
  steps?: number;
  minutes?: number;
  seed?: number;
  resume?: boolean;
  /** Remove the run already in --out (best/, last/ and what crashed saves left) and start afresh. */
  overwrite?: boolean;
  log?: string;
  /** Your own data: a file of pairs (seq2seq) or text (lm); resolved against the working folder. */
  train?: string;
  valid?: string;
  skipBadRows?: boolean;
  /** Start from this checkpoint's weights and tokenizers (a checkpoint or run folder). */
  initFrom?: string;
  /** With initFrom: grow the tokenizers and embeddings to cover the new data's symbols. */
  resizeVocab?: boolean;
  /** classify: the share of the training labels used (config field labelFraction). */
  labelFraction?: number;
}

/** Where output goes (tests and the demo pass their own). */
export interface Output {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const stdio: Output = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

/** Config fields that name files (resolved against the config file's folder, or the working directory). */
export const PATH_FIELDS = ['train', 'valid'] as const;

/**
 * Reads `qkv train`'s first argument: a task name, or a JSON file naming the task and overriding
 * preset fields. Data paths become absolute: a config file's against its own folder, the flags'
 * against the working folder (the checkpoint records them so `qkv eval` finds the data).
 */
export function readTrainTarget(target: string, flags: TrainFlags): { task: TaskName; preset: PresetName; config: TaskConfig } {
  let task: string;
  let preset = flags.preset;
  let overrides: Record<string, unknown> = {};
  const isFile = target.endsWith('.json') || (existsSync(target) && statSync(target).isFile());
  if (isFile) {
    if (!existsSync(target)) throw new CliError(`${target}: no such config file`);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(target, 'utf8'));
    } catch (e) {
      throw new CliError(`${target}: not valid JSON (${(e as Error).message})`);
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new CliError(`${target}: expected a JSON object naming the task, e.g. {"task": "g2p"}`);
    const { task: t, preset: p, ...rest } = json as Record<string, unknown>;
    if (typeof t !== 'string') throw new CliError(`${target}: field 'task' is ${JSON.stringify(t) ?? 'missing'}, expected one of ${TASK_NAMES.join(', ')}`);
    if (p !== undefined && typeof p !== 'string') throw new CliError(`${target}: field 'preset' is ${JSON.stringify(p)}, expected tiny, small or base`);
    task = t;
    preset ??= p;
    overrides = rest;
    for (const f of PATH_FIELDS) if (typeof overrides[f] === 'string') overrides[f] = resolve(dirname(target), overrides[f] as string);
  } else {
    task = target;
  }
  const name = usage(() => checkTaskName(task), isFile ? '' : ' (or a config .json file)');
  const presetName = usage(() => checkPresetName(preset ?? 'small'));
  if ((flags.train !== undefined || flags.valid !== undefined) && !['seq2seq', 'lm', 'mlm', 'classify'].includes(name)) {
    throw new UsageError(`--${flags.train !== undefined ? 'train' : 'valid'}: task ${name} trains on its packaged dataset; your own pairs go with task seq2seq (qkv train seq2seq --train pairs.tsv), your own text with task lm or mlm, your labelled texts with task classify`);
  }
  if (flags.resizeVocab && flags.initFrom === undefined) throw new UsageError('--resize-vocab grows the vocabulary of the checkpoint given to --init-from, expected --init-from too');
  if (flags.overwrite && flags.resume) throw new UsageError('--overwrite removes the run in --out and --resume continues it, expected only one of them');
  if (flags.initFrom !== undefined && flags.resume) throw new UsageError('--init-from starts a new run from a checkpoint and --resume continues one, expected only one of them');
  const flagsOverrides: Record<string, unknown> = {
    ...(flags.steps !== undefined ? { maxSteps: flags.steps } : {}),
    ...(flags.minutes !== undefined ? { maxMinutes: flags.minutes } : {}),
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    ...(flags.train !== undefined ? { train: resolve(flags.train) } : {}),
    ...(flags.valid !== undefined ? { valid: resolve(flags.valid) } : {}),
    ...(flags.skipBadRows ? { skipBadRows: true } : {}),
    ...(flags.labelFraction !== undefined ? { labelFraction: flags.labelFraction } : {}),
  };
  if (flags.labelFraction !== undefined && name !== 'classify') throw new UsageError(`--label-fraction: task ${name} has no labels to subsample, expected task classify`);
  const config = usage(() => taskConfig(name, presetName, { ...overrides, ...flagsOverrides }), '', isFile ? target : '');
  if (config.task === 'seq2seq' && config.train === null && !flags.resume) {
    throw new UsageError(`task seq2seq trains on your own pairs, expected --train pairs.tsv (source<TAB>target lines, or JSON Lines {"source": ..., "target": ...})${isFile ? ` or "train" in ${target}` : ''}`);
  }
  return { task: name, preset: presetName, config };
}

/** Runs f; its ArgumentError becomes a UsageError (or a CliError naming `file`). */
function usage<T>(f: () => T, suffix = '', file = ''): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof CliError) throw e;
    const msg = (e as Error).message + suffix;
    throw file ? new CliError(`${file}: ${msg}`) : new UsageError(msg);
  }
}

/** The Trainer's save hook: a checkpoint folder plus metrics.json (the evaluation it was saved with). */
function saver(root: string, run: TaskRun, lastEval: () => { step: number; metrics: Record<string, number> } | null, keep: number): SaveHook {
  return async (which, trainer) => {
    const files = checkpointFiles({
      modelKind: run.modelKind,
      modelConfig: (run.model as unknown as { config: object }).config,
      model: trainer.model,
      tokenizer: run.tokenizer,
      targetTokenizer: run.targetTokenizer,
      task: { name: run.task.name, options: run.task.options },
      optimizer: trainer.optimizer,
      trainerState: trainer.state(),
    });
    const ev = lastEval();
    if (ev) files[METRICS_FILE] = JSON.stringify(ev, null, 2) + '\n';
    await writeDirAtomic(join(root, which), files);
    if (which === 'last' && keep > 0) await writeSnapshot(root, trainer.stepCount, files, keep);
  };
}

/** What {@link runTraining} needs. */
export interface TrainingJob {
  config: TaskConfig;
  out: string;
  resume?: boolean;
  log?: string;
  /** Replace the run's limits (a resumed run keeps its config otherwise). */
  limits?: { maxSteps?: number; maxMinutes?: number };
  /** Fine-tune: start from this checkpoint (or run folder)'s weights and tokenizers, at step 0. */
  initFrom?: string;
  /** With initFrom: grow the tokenizers (and embedding rows) to cover the new data's symbols. */
  resizeVocab?: boolean;
  /** Remove a run already in `out` (best/, last/, stale copies) instead of refusing to start. */
  overwrite?: boolean;
  /**
   * Catch SIGINT and SIGTERM while training (default true): the step in progress finishes, last/ is
   * saved, and a CliError with exit code 130 (SIGINT) or 143 (SIGTERM) is thrown. A second signal exits at once.
   */
  handleSignals?: boolean;
  /** Stop between two steps when this fires (last/ is saved; the result's reason is 'stopped'). */
  signal?: AbortSignal;
}

/** The checkpoint folders of a run folder, and what crashed saves left beside them. */
const RUN_FOLDERS = ['best', 'last', SNAPSHOTS_DIR] as const;

/** What of a run is in `out`: best/, last/, and stray `.tmp-*`/`.old-*` copies of them. */
async function existingRun(out: string): Promise<string[]> {
  const found: string[] = [];
  for (const sub of RUN_FOLDERS) {
    const dir = join(out, sub);
    if (existsSync(dir)) found.push(dir);
    found.push(...(await staleCopies(dir)));
  }
  return found;
}

/**
 * The checkpoint a resumed run continues from: the one of last/ and best/ with the most steps (a
 * kill between a best/ save and the last/ save after it leaves best/ ahead), its folder, and the
 * best score recorded by either (same run: a folder holds one run lineage).
 */
async function resumePoint(out: string): Promise<{ dir: string; ck: Awaited<ReturnType<typeof readCheckpointDir>>; other: Awaited<ReturnType<typeof readCheckpointDir>> | null }> {
  const found: { dir: string; ck: Awaited<ReturnType<typeof readCheckpointDir>> }[] = [];
  for (const sub of ['last', 'best'] as const) {
    const dir = join(out, sub);
    if (!existsSync(join(dir, 'config.json')) && !(await findCompleteCopy(dir))) continue;
    const ck = await readCheckpointDir(dir);
    if (ck.trainerState) found.push({ dir, ck });
  }
  if (!found.length) {
    const stale = await existingRun(out);
    throw new CliError(`${join(out, 'last')}: no checkpoint to resume from${stale.length ? ` (only incomplete copies left by an interrupted save: ${stale.join(', ')})` : ''}, expected one written by qkv train --out ${out}`);
  }
  found.sort((a, b) => b.ck.trainerState!.step - a.ck.trainerState!.step); // stable: last/ first on a tie
  return { ...found[0], other: found[1]?.ck ?? null };
}

/** A line saying which tokens a reused tokenizer gained, or null when it gained none. */
function grownVocabulary(side: string, before: Tokenizer, after: Tokenizer): string | null {
  const n = after.vocabSize - before.vocabSize;
  if (n <= 0) return null;
  const shown = Array.from({ length: Math.min(n, 12) }, (_, i) => JSON.stringify(after.idToToken(before.vocabSize + i))).join(', ');
  return `--resize-vocab: ${side} vocabulary ${before.vocabSize} → ${after.vocabSize} tokens (added ${shown}${n > 12 ? ', …' : ''})`;
}

/**
 * Trains (or resumes) a run into `out`: out/best and out/last checkpoints, a progress bar on a
 * terminal, and one line per evaluation on `io.out`.
 */
export async function runTraining(job: TrainingJob, io: Output = stdio): Promise<{ result: TrainResult; run: TaskRun }> {
  let signalled: NodeJS.Signals | null = null;
  let trainer: Trainer | null = null;
  const exitCode = (sig: NodeJS.Signals) => (sig === 'SIGINT' ? 130 : 143);
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) process.exit(exitCode(sig)); // a second Ctrl-C: at once (saves are atomic)
    signalled = sig;
    io.err(`${sig}: stopping after this step and saving ${join(job.out, 'last')} (${sig} again to quit at once)`);
    trainer?.stop();
  };
  const handle = job.handleSignals !== false;
  if (handle) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    return await trainInto(job, io, {
      started: (t) => {
        trainer = t;
        if (signalled) t.stop();
      },
      interrupted: () => signalled,
    });
  } finally {
    if (handle) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

/** runTraining's work, with its signal handling outside: `started` gets the Trainer, `interrupted` says whether a signal came. */
async function trainInto(
  job: TrainingJob, io: Output,
  hooks: { started: (t: Trainer) => void; interrupted: () => NodeJS.Signals | null },
): Promise<{ result: TrainResult; run: TaskRun }> {
  let lastDir = join(job.out, 'last');
  let config = job.config;
  let run: TaskRun;
  let restore: Awaited<ReturnType<typeof readCheckpointDir>> | null = null;
  let otherBest: Awaited<ReturnType<typeof readCheckpointDir>> | null = null;
  if (job.resume) {
    const point = await resumePoint(job.out);
    ({ ck: restore, other: otherBest } = point);
    lastDir = point.dir;
    const t = restore.config.task;
    if (!t || t.name !== config.task) throw new CliError(`${lastDir}: trained on task '${t?.name ?? 'none'}', expected '${config.task}' to resume`);
    config = checkpointTaskConfig(config.task, t.options, join(lastDir, 'config.json'));
    if (!restore.tokenizer) throw new CliError(`${lastDir}/tokenizer.json: file is missing, expected it to resume`);
    io.err(`resuming ${config.task} (preset ${config.preset}) from ${lastDir} at step ${restore.trainerState?.step ?? 0}`);
  } else {
    const existing = await existingRun(job.out);
    if (existing.length && job.overwrite) {
      for (const path of existing) rmSync(path, { recursive: true, force: true });
      io.err(`--overwrite: removed the run in ${job.out} (${existing.map((p) => p.slice(job.out.length).replace(/^[\\/]/, '')).join(', ')})`);
    } else if (existing.length) {
      throw new CliError(`${job.out} already holds a run (${existing.join(', ')}); pass --resume to continue it, --overwrite to replace it, or --out to start another`);
    }
  }
  if (job.limits?.maxSteps !== undefined) config = { ...config, maxSteps: job.limits.maxSteps };
  if (job.limits?.maxMinutes !== undefined) config = { ...config, maxMinutes: job.limits.maxMinutes };

  let reuse: ReuseTokenizers | undefined = restore
    ? { tokenizer: restore.tokenizer!, targetTokenizer: restore.targetTokenizer, modelConfig: restore.config.model }
    : undefined;
  let init: { source: string; state: Awaited<ReturnType<typeof readCheckpointDir>>['modelState']; transfer: WeightTransfer | null } | null = null;
  if (job.initFrom !== undefined) {
    if (job.resume) throw new UsageError('--init-from starts a new run from a checkpoint and --resume continues one, expected only one of them');
    const dir = resolveCheckpointDir(job.initFrom);
    const from = await readCheckpointDir(dir);
    const plan = initFromCheckpoint(config, from, { resizeVocab: job.resizeVocab ?? false });
    ({ config, reuse } = plan);
    init = { source: `${dir}/model.safetensors`, state: from.modelState, transfer: plan.transfer };
    for (const line of plan.notes) io.err(line);
  }

  const workers = config.workers ?? 1; // configs written before the field existed train on one thread
  if (!(Number.isInteger(workers) && workers >= 1)) throw new CliError(`config field 'workers' is ${JSON.stringify(workers)}, expected an integer ≥ 1`);
  const t0 = performance.now();
  const reading = readProgress();
  try {
    run = await buildTaskRun(config, reuse, { onProgress: reading.onProgress });
  } catch (e) {
    if (e instanceof BadRowError && !(config as { skipBadRows?: boolean }).skipBadRows) throw new CliError(`${e.message}; pass --skip-bad-rows to skip and count such rows`);
    throw e;
  } finally {
    reading.stop();
  }
  if (restore) loadModelState(run.model, restore.modelState, `${lastDir}/model.safetensors`);
  if (restore?.trainerState && otherBest?.trainerState) {
    // Keep-best compares against the best this run folder ever recorded, in best/ or last/.
    const a = restore.trainerState.best;
    const b = otherBest.trainerState.best;
    const max = run.trainer.monitor?.mode === 'max';
    if (b && (!a || (a.metric === b.metric && (max ? b.value > a.value : b.value < a.value)))) restore.trainerState = { ...restore.trainerState, best: b };
  }
  if (init && reuse) {
    const grownTok = [grownVocabulary(run.targetTokenizer ? 'source' : 'the', reuse.tokenizer, run.tokenizer)];
    if (run.targetTokenizer) grownTok.push(grownVocabulary('target', reuse.targetTokenizer ?? reuse.tokenizer, run.targetTokenizer));
    for (const line of grownTok) if (line) io.err(line);
    if (init.transfer) for (const line of loadTransferredWeights(run.model, init.state, init.source, init.transfer)) io.err(line);
    else for (const line of loadInitialWeights(run.model, init.state, init.source)) io.err(`--resize-vocab: ${line} (new rows initialised as a fresh model's)`);
  }
  const params = run.model.parameters().reduce((n, p) => n + p.size, 0);
  io.err(`${run.summary} (ready in ${formatSeconds((performance.now() - t0) / 1000)})`);
  for (const line of run.notes ?? []) io.err(line);
  const limit = config.maxMinutes !== null ? `${config.maxSteps} steps or ${config.maxMinutes} min` : `${config.maxSteps} steps`;
  io.err(`model: ${run.modelKind}, ${formatCount(params)} parameters; training up to ${limit}; checkpoints in ${job.out}/best and ${job.out}/last`);

  let lastEval: { step: number; metrics: Record<string, number> } | null = null;
  let lastSaved: number | null = restore?.trainerState?.step ?? null;
  let lossSum = 0;
  let lossSteps = 0;
  let tokens = 0;
  let tokenSeconds = 0;
  const bar = progressBar();
  const log = job.log ? jsonlLog(job.log) : null;
  const printer = (e: TrainEvent): void => {
    if (e.type === 'step') {
      lossSum += e.loss;
      lossSteps++;
      tokens += e.tokens;
      if (Number.isFinite(e.tokensPerSecond) && e.tokensPerSecond > 0) tokenSeconds += e.tokens / e.tokensPerSecond;
    } else if (e.type === 'eval') {
      lastEval = { step: e.step, metrics: e.metrics };
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
      const train = lossSteps ? `loss ${(lossSum / lossSteps).toFixed(3)}  ${Math.round(tokens / Math.max(tokenSeconds, 1e-9))} tok/s  ` : '';
      io.out(`step ${e.step}  ${train}| ${formatMetrics(e.metrics)}${e.improved ? '  (best)' : ''}`);
      lossSum = lossSteps = tokens = tokenSeconds = 0;
    } else if (e.type === 'earlyStop') {
      io.out(`early stop at step ${e.step}: no improvement in ${e.patience} evaluations`);
    } else if (e.type === 'warning') {
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
      io.err(`warning: ${e.message}`);
    } else if (e.type === 'checkpoint' && e.which === 'last') {
      lastSaved = e.step;
    }
  };
  let replicas: WorkerReplicas | null = null;
  if (workers > 1) {
    const w0 = performance.now();
    const modelConfig = (run.model as unknown as { config: Record<string, unknown> }).config;
    replicas = await startWorkerReplicas(config, run.model, workers - 1, { reuse: { tokenizer: run.tokenizer, targetTokenizer: run.targetTokenizer, modelConfig } });
    io.err(`data parallel: ${workers} threads, each on a batch of ${config.maxTokens} tokens per step (workers ready in ${formatSeconds((performance.now() - w0) / 1000)})`);
  }
  let result: TrainResult;
  try {
    const trainer = new Trainer(run.model, run.task, {
      ...run.trainer,
      ...saveOptions(config),
      ...(replicas ? { replicas } : {}),
      ...(job.signal ? { signal: job.signal } : {}),
      save: saver(job.out, run, () => lastEval, config.keepCheckpoints ?? 0),
      onEvent: fanOut(bar.onEvent, printer, ...(log ? [log.onEvent] : [])),
    });
    if (restore) trainer.restore(restore);
    hooks.started(trainer);
    result = await trainer.run();
  } catch (e) {
    if (e instanceof TrainingDivergedError) {
      const kept = lastSaved !== null ? `${join(job.out, 'last')} keeps step ${lastSaved}` : 'no checkpoint was saved before it';
      throw new CliError(`${e.message.replace(/^Trainer: /, '')}; ${kept}`);
    }
    throw e;
  } finally {
    bar.stop();
    log?.close();
    await replicas?.close();
  }
  const best = result.best ? `best ${formatMetrics({ [result.best.metric]: result.best.value })} at step ${result.best.step}` : 'no evaluation yet';
  const sig = hooks.interrupted();
  if (sig) {
    throw new CliError(`interrupted by ${sig} at step ${result.step}: saved ${join(job.out, 'last')} at step ${lastSaved ?? result.step} (continue with --resume)`, sig === 'SIGINT' ? 130 : 143);
  }
  io.out(`done: ${result.step} steps in ${formatSeconds(result.elapsedSeconds)}; ${stopWords(result, config, job.limits)}; ${best}; checkpoints in ${job.out}/best and ${job.out}/last`);
  return { result, run };
}

/** Why the run stopped, in the words the user gave the limit in: a flag (--minutes 3) or the config's field. */
function stopWords(result: TrainResult, config: TaskConfig, flags: TrainingJob['limits']): string {
  switch (result.reason) {
    case 'maxSeconds':
      return `stopped at the time limit (${flags?.maxMinutes !== undefined ? `--minutes ${flags.maxMinutes}` : `config maxMinutes ${config.maxMinutes}`})`;
    case 'maxSteps':
      return `stopped after ${formatCount(result.step)} steps (${flags?.maxSteps !== undefined ? `--steps ${flags.maxSteps}` : `config maxSteps ${config.maxSteps}`})`;
    case 'maxEpochs':
      return `stopped after ${formatCount(result.epoch)} epochs`;
    case 'earlyStop':
      return 'stopped early (no improvement)';
    case 'stopped':
      return 'stopped on request';
  }
}

/** The action of `qkv train <task|config.json>`. */
export async function trainCommand(target: string, flags: TrainFlags): Promise<void> {
  const { task, preset, config } = readTrainTarget(target, flags);
  const out = flags.out ?? join('runs', `${task}-${preset}`);
  await runTraining({
    config, out, resume: flags.resume, overwrite: flags.overwrite, log: flags.log, initFrom: flags.initFrom, resizeVocab: flags.resizeVocab,
    limits: { ...(flags.steps !== undefined ? { maxSteps: flags.steps } : {}), ...(flags.minutes !== undefined ? { maxMinutes: flags.minutes } : {}) },
  });
}
