// loadPretrained and pipeline on Node: a checkpoint folder (or a run folder's best/, else last/) read from disk.

import { loadPretrained as loadPretrainedFiles, isPretrainedFiles, PRETRAINED_FILES } from '../inference/pretrained.js';
import type { LoadPretrainedOptions, Pretrained, PretrainedFiles } from '../inference/pretrained.js';
import { pipelineFor, pipelineTask } from '../inference/pipeline.js';
import type { AnyPipeline, PipelineOptions, PipelineSource, PipelineTaskName, PipelineTypes } from '../inference/pipeline.js';
import { readCheckpointFiles, resolveCheckpointDir } from './checkpoint.js';

/**
 * Loads a checkpoint that qkv saved, for use: from a folder (a checkpoint folder, or a run folder,
 * whose best/ is read, else its last/), or from its files as bytes like the browser's
 * loadPretrained. Only the files using the model needs are read (no optimizer state). Errors
 * name the folder and the file.
 *
 * @example
 * const ck = await loadPretrained('runs/g2p-small');
 * ck.kind; // 'transformer'
 * ck.task; // 'g2p'
 */
export async function loadPretrained(dirOrFiles: string | PretrainedFiles, opts: LoadPretrainedOptions = {}): Promise<Pretrained> {
  if (typeof dirOrFiles !== 'string') return loadPretrainedFiles(dirOrFiles, opts);
  const read = await readCheckpointFiles(resolveCheckpointDir(dirOrFiles), PRETRAINED_FILES);
  return loadPretrainedFiles(read.files, { ...opts, source: opts.source ?? read.dir });
}

/**
 * pipeline() of the inference room that also takes a folder path: the checkpoint is loaded with
 * {@link loadPretrained} (the task name is checked first, so a typo costs no loading).
 *
 * @example
 * const g2p = await pipeline('g2p', 'runs/g2p-small');
 * console.log(await g2p('HELLO')); // HH AH0 L OW1
 */
export async function pipeline<T extends PipelineTaskName>(task: T, model: string | PipelineSource, options?: PipelineOptions<T>): Promise<PipelineTypes[T]>;
export async function pipeline(task: string, model: string | PipelineSource, options?: PipelineOptions): Promise<AnyPipeline>;
export async function pipeline(task: string, model: string | PipelineSource, options: PipelineOptions = {}): Promise<AnyPipeline> {
  pipelineTask(task, typeof model === 'string' ? model : undefined);
  const p = typeof model === 'string' || isPretrainedFiles(model) ? await loadPretrained(model, { backend: options.backend }) : model;
  return pipelineFor(task, p, options);
}
