// pipeline(task, checkpoint): an async callable per task, named as Hugging Face's pipelines, with streaming and attention maps.

import { ArgumentError } from '../core/errors.js';
import { LIMITS, checkLimit } from '../core/limits.js';
import type { LimitName } from '../core/limits.js';
import type { Backend } from '../backend/backend.js';
import { causalAttentions, seq2seqAttentions } from './attentions.js';
import type { CausalAttentions, Seq2SeqAttentions } from './attentions.js';
import { generateText, streamText } from './causal.js';
import type { TextGenerationOptions } from './causal.js';
import { classifierPositions, classifyTexts, fillMask } from './classification.js';
import type { LabelScore, MaskFill } from './classification.js';
import { isPretrainedFiles, loadPretrained } from './pretrained.js';
import type { Pretrained, PretrainedCausal, PretrainedClassifier, PretrainedFiles, PretrainedLSTMSeq2Seq, PretrainedMaskedLM, PretrainedSeq2Seq } from './pretrained.js';
import type { WordPieceTokenizer } from '../tokenizers/wordpiece.js';
import { G2P_RULES, TEXT2TEXT_RULES, TRANSLATE_RULES, answerIds, answerSeq2Seq, encodeSources, maxLenRule, streamSeq2Seq } from './seq2seq.js';
import type { Seq2SeqGenerationOptions, Seq2SeqRules } from './seq2seq.js';

/** A pipeline was asked for a task it does not have, of a checkpoint that does not fit, or with options it does not take. */
export class PipelineError extends ArgumentError {}

/** Options of a call of an encoder-decoder pipeline. */
export interface Seq2SeqCallOptions extends Seq2SeqGenerationOptions {
  /** Also return every layer's attention weights and the tokens they refer to. */
  outputAttentions?: boolean;
}

/** An answer with its attention weights (outputAttentions: true). */
export interface Seq2SeqOutput {
  text: string;
  attentions: Seq2SeqAttentions;
}

/** Options of a call of the text-generation pipeline. */
export interface TextGenerationCallOptions extends TextGenerationOptions {
  /** Return (and stream) the prompt followed by the new text (default true, as HF); false: the new text alone. */
  returnFullText?: boolean;
  /** Also return every block's attention weights over the prompt and the new tokens. */
  outputAttentions?: boolean;
}

/** A text with its attention weights (outputAttentions: true). */
export interface TextGenerationOutput {
  text: string;
  attentions: CausalAttentions;
  /** What was cut to fit the model's context (maxNewTokens capped, prompt tokens dropped); empty when nothing was. */
  warnings: string[];
}

type WithAttentions<O> = O & { outputAttentions: true };
type WithoutAttentions<O> = O & { outputAttentions?: false };

/**
 * An encoder-decoder pipeline (g2p, translation, text2text-generation): text in, text out, a
 * string or an array of them. Every call returns a Promise.
 */
export interface Seq2SeqPipeline {
  (input: string, options?: WithoutAttentions<Seq2SeqCallOptions>): Promise<string>;
  (input: readonly string[], options?: WithoutAttentions<Seq2SeqCallOptions>): Promise<string[]>;
  (input: string, options: WithAttentions<Seq2SeqCallOptions>): Promise<Seq2SeqOutput>;
  (input: readonly string[], options: WithAttentions<Seq2SeqCallOptions>): Promise<Seq2SeqOutput[]>;
  (input: string | readonly string[], options?: Seq2SeqCallOptions): Promise<string | string[] | Seq2SeqOutput | Seq2SeqOutput[]>;
  /**
   * The answer to one text as pieces: greedy decoding (numBeams 1) yields each piece as its token
   * is chosen; beam search yields the whole answer once, at the end. The pieces join to the call's answer.
   */
  stream(input: string, options?: Seq2SeqGenerationOptions): AsyncGenerator<string, void, undefined>;
  /** The task's canonical name ('g2p', 'translation', 'text2text-generation'). */
  readonly task: PipelineTask;
  readonly pretrained: PretrainedSeq2Seq | PretrainedLSTMSeq2Seq;
}

/** The text-generation pipeline: a prompt (or an array of them) in, text out. Every call returns a Promise. */
export interface TextGenerationPipeline {
  (input: string, options?: WithoutAttentions<TextGenerationCallOptions>): Promise<string>;
  (input: readonly string[], options?: WithoutAttentions<TextGenerationCallOptions>): Promise<string[]>;
  (input: string, options: WithAttentions<TextGenerationCallOptions>): Promise<TextGenerationOutput>;
  (input: readonly string[], options: WithAttentions<TextGenerationCallOptions>): Promise<TextGenerationOutput[]>;
  (input: string | readonly string[], options?: TextGenerationCallOptions): Promise<string | string[] | TextGenerationOutput | TextGenerationOutput[]>;
  /** The text as pieces, each as soon as its token is chosen (the prompt first, unless returnFullText is false). */
  stream(input: string, options?: Omit<TextGenerationCallOptions, 'outputAttentions'>): AsyncGenerator<string, void, undefined>;
  readonly task: 'text-generation';
  readonly pretrained: PretrainedCausal;
}

/** Options of a call of the text-classification pipeline. */
export interface TextClassificationCallOptions {
  /** The most likely this many labels per text (default 1, as HF); null: every label, whose scores sum to 1. */
  topK?: number | null;
}

/**
 * The text-classification pipeline: each text's labels with their softmax probabilities, most
 * likely first. The shapes are HF's (and transformers.js's): a text gives `[{ label, score }]`
 * (topK of them); an array of texts at topK 1 gives one `{ label, score }` per text, and at any
 * other topK (or null) one list per text.
 */
export interface TextClassificationPipeline {
  (input: string, options?: TextClassificationCallOptions): Promise<LabelScore[]>;
  (input: readonly string[], options?: TextClassificationCallOptions): Promise<LabelScore[] | LabelScore[][]>;
  readonly task: 'text-classification';
  readonly pretrained: PretrainedClassifier;
}

/** Options of a call of the fill-mask pipeline. */
export interface FillMaskCallOptions {
  /** Fillers per [MASK] (default 5, as HF). */
  topK?: number;
}

/**
 * The fill-mask pipeline: the top fillers of each [MASK] of a text. As HF: a text with one [MASK]
 * gives one list of `{ token, tokenStr, score, sequence }`, a text with several a list per [MASK];
 * an array of texts gives one answer each.
 */
export interface FillMaskPipeline {
  (input: string, options?: FillMaskCallOptions): Promise<MaskFill[] | MaskFill[][]>;
  (input: readonly string[], options?: FillMaskCallOptions): Promise<(MaskFill[] | MaskFill[][])[]>;
  readonly task: 'fill-mask';
  readonly pretrained: PretrainedMaskedLM;
}

/** The pipeline of each task name (aliases included). */
export interface PipelineTypes {
  'g2p': Seq2SeqPipeline;
  'translation': Seq2SeqPipeline;
  'translate': Seq2SeqPipeline;
  'text2text-generation': Seq2SeqPipeline;
  'text-generation': TextGenerationPipeline;
  'generate': TextGenerationPipeline;
  'text-classification': TextClassificationPipeline;
  'classify': TextClassificationPipeline;
  'fill-mask': FillMaskPipeline;
}

/** Any pipeline. */
export type AnyPipeline = Seq2SeqPipeline | TextGenerationPipeline | TextClassificationPipeline | FillMaskPipeline;

/** The task names pipeline() takes (HF's, plus 'g2p', and the aliases 'translate' and 'generate'). */
export type PipelineTaskName = keyof PipelineTypes;

/** The canonical task names. */
export const PIPELINE_TASKS = ['g2p', 'translation', 'text2text-generation', 'text-generation', 'text-classification', 'fill-mask'] as const;
export type PipelineTask = (typeof PIPELINE_TASKS)[number];

/** Other names of the tasks: qkv's command names. */
export const PIPELINE_ALIASES: Readonly<Record<string, PipelineTask>> = { translate: 'translation', generate: 'text-generation', classify: 'text-classification' };

/** Options of {@link pipeline}: defaults for every call (a call's own options win), and the backend of a model it loads. */
export type PipelineOptions<T extends PipelineTaskName = PipelineTaskName> =
  (PipelineTypes[T] extends TextGenerationPipeline ? TextGenerationCallOptions
    : PipelineTypes[T] extends TextClassificationPipeline ? TextClassificationCallOptions
      : PipelineTypes[T] extends FillMaskPipeline ? FillMaskCallOptions : Seq2SeqCallOptions) & { backend?: Backend };

/** What pipeline() takes as the model: a loaded checkpoint, or its files (a folder path on Node: src/node). */
export type PipelineSource = Pretrained | PretrainedFiles;

/** What a task needs of a checkpoint, and how it answers: one object per task. */
interface TaskSpec {
  task: PipelineTask;
  kind: 'transformer' | 'gpt' | 'bert' | 'classifier';
  /** The training task the checkpoint must record (null: any). */
  trainedOn: string | null;
}

const SPECS: Record<PipelineTask, TaskSpec & { rules?: Seq2SeqRules }> = {
  'g2p': { task: 'g2p', kind: 'transformer', trainedOn: 'g2p', rules: G2P_RULES },
  'translation': { task: 'translation', kind: 'transformer', trainedOn: 'translate', rules: TRANSLATE_RULES },
  'text2text-generation': { task: 'text2text-generation', kind: 'transformer', trainedOn: null, rules: TEXT2TEXT_RULES },
  'text-generation': { task: 'text-generation', kind: 'gpt', trainedOn: null },
  'text-classification': { task: 'text-classification', kind: 'classifier', trainedOn: null },
  'fill-mask': { task: 'fill-mask', kind: 'bert', trainedOn: null },
};

/** What each kind of checkpoint is, and which pipeline takes it. */
const KIND_USE: Record<string, { what: string; pipeline: string }> = {
  transformer: { what: "an encoder-decoder 'transformer' checkpoint", pipeline: "pipeline('text2text-generation')" },
  gpt: { what: "a decoder-only 'gpt' checkpoint", pipeline: "pipeline('text-generation')" },
  bert: { what: "a BERT masked-LM 'bert' checkpoint (task mlm)", pipeline: "pipeline('fill-mask')" },
  classifier: { what: "a sequence classifier ('bert-classifier' or 'gpt-classifier', task classify)", pipeline: "pipeline('text-classification')" },
};

/** The pipeline kind of a checkpoint kind: both classifiers answer text-classification, both encoder-decoders the seq2seq tasks. */
const specKind = (kind: string): string => (kind === 'bert-classifier' || kind === 'gpt-classifier' ? 'classifier' : kind === 'lstm-seq2seq' ? 'transformer' : kind);

const SEQ2SEQ_OPTIONS = ['numBeams', 'lengthPenalty', 'maxNewTokens', 'outputAttentions'];
const TOP_K_OPTIONS = ['topK'];
const CAUSAL_OPTIONS = ['maxNewTokens', 'doSample', 'temperature', 'topK', 'topP', 'repetitionPenalty', 'seed', 'onWarning', 'returnFullText', 'outputAttentions'];

function taskList(): string {
  const aliases = (t: string) => Object.entries(PIPELINE_ALIASES).filter(([, v]) => v === t).map(([k]) => k);
  return PIPELINE_TASKS.map((t) => (aliases(t).length ? `${t} (alias ${aliases(t).join(', ')})` : t)).join(', ');
}

/**
 * The canonical name of a pipeline task; an unknown name is a PipelineError naming it, the
 * checkpoint (when given) and the tasks there are.
 *
 * @example
 * pipelineTask('translate'); // 'translation'
 */
export function pipelineTask(name: string, source?: string): PipelineTask {
  if ((PIPELINE_TASKS as readonly string[]).includes(name)) return name as PipelineTask;
  const alias = Object.prototype.hasOwnProperty.call(PIPELINE_ALIASES, name) ? PIPELINE_ALIASES[name] : undefined;
  if (alias) return alias;
  throw new PipelineError(`pipeline: unknown task ${JSON.stringify(name)}${source ? ` for checkpoint ${source}` : ''}, expected one of ${taskList()}`);
}

/** Throws a PipelineError naming the task and the checkpoint's kind and task unless the checkpoint fits the task. */
function checkFits(spec: TaskSpec, p: Pretrained): void {
  const trained = p.task === null ? 'no recorded task' : `task '${p.task}'`;
  if (specKind(p.kind) !== spec.kind) {
    const other = KIND_USE[specKind(p.kind)];
    throw new PipelineError(`pipeline('${spec.task}'): ${p.source} holds a '${p.kind}' model (${trained}), expected ${KIND_USE[spec.kind].what}${other ? `; ${other.pipeline} takes this one` : ''}`);
  }
  if (spec.trainedOn !== null && p.task !== spec.trainedOn) {
    throw new PipelineError(`pipeline('${spec.task}'): ${p.source}: trained on ${trained}, expected a ${spec.trainedOn} checkpoint; pipeline('text2text-generation') takes any encoder-decoder`);
  }
}

/** Throws a PipelineError for an option the task does not take (a snake_case name, a typo). */
function checkOptionNames(task: PipelineTask, o: object | undefined, known: readonly string[]): void {
  for (const key of Object.keys(o ?? {})) {
    if (key !== 'backend' && !known.includes(key)) throw new PipelineError(`pipeline('${task}'): unknown option '${key}', expected one of ${known.join(', ')}`);
  }
}

/** Throws a PipelineError for a beam size or token count past its cap (LIMITS), before any work starts; lower bounds are checked where the option is used. */
function checkCaps(task: PipelineTask, o: { numBeams?: number; beam?: number; maxNewTokens?: number }): void {
  const caps: [string, unknown, LimitName][] = [['numBeams', o.numBeams, 'maxBeams'], ['beam', o.beam, 'maxBeams'], ['maxNewTokens', o.maxNewTokens, 'maxNewTokens']];
  for (const [field, v, cap] of caps) {
    if (typeof v !== 'number' || !(v > LIMITS[cap])) continue;
    try {
      checkLimit(field, v, cap);
    } catch (e) {
      throw new PipelineError(`pipeline('${task}'): ${(e as Error).message}`);
    }
  }
}

function defined<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Decoding defaults a checkpoint records in its task options (qkv's `beam` and `lengthPenalty` fields),
 * which an encoder-decoder pipeline uses unless told otherwise.
 *
 * @example
 * checkpointDefaults(await loadPretrained(files)); // { numBeams: 4, lengthPenalty: 0.6 } for a g2p run
 */
export function checkpointDefaults(p: Pretrained): Seq2SeqGenerationOptions {
  const o = p.config.task?.options ?? {};
  const out: Seq2SeqGenerationOptions = {};
  if (Number.isInteger(o.beam) && (o.beam as number) >= 1) out.numBeams = o.beam as number;
  if (typeof o.lengthPenalty === 'number' && Number.isFinite(o.lengthPenalty)) out.lengthPenalty = o.lengthPenalty;
  return out;
}

function checkInput(task: PipelineTask, input: unknown): void {
  const ok = typeof input === 'string' || (Array.isArray(input) && input.every((s) => typeof s === 'string'));
  if (!ok) throw new PipelineError(`pipeline('${task}'): input is ${Array.isArray(input) ? 'an array holding a non-string' : typeof input}, expected a string or an array of strings`);
  if (Array.isArray(input) && input.length > LIMITS.maxBatch) {
    throw new PipelineError(`pipeline('${task}'): input holds ${input.length} texts, expected at most ${LIMITS.maxBatch} a call (the cap LIMITS.maxBatch; see docs/reliability.md): split it into calls`);
  }
}

function seq2seqPipeline(spec: TaskSpec & { rules?: Seq2SeqRules }, p: PretrainedSeq2Seq | PretrainedLSTMSeq2Seq, base: Seq2SeqCallOptions): Seq2SeqPipeline {
  const rules = spec.rules!;
  const merged = (o?: Seq2SeqCallOptions): Seq2SeqCallOptions => {
    checkOptionNames(spec.task, o, SEQ2SEQ_OPTIONS);
    const m: Seq2SeqCallOptions = { ...checkpointDefaults(p), ...defined(base), ...defined(o) };
    checkCaps(spec.task, m);
    return m;
  };
  const call = async (input: string | readonly string[], options?: Seq2SeqCallOptions) => {
    checkInput(spec.task, input);
    const o = merged(options);
    const list = typeof input === 'string' ? [input] : [...input];
    let out: (string | Seq2SeqOutput)[];
    if (o.outputAttentions) {
      // One at a time, so each answer's length limit (and whether it ended with </s>) is its own.
      out = list.map((text) => {
        const [source] = encodeSources(p, [text], rules);
        const [ids] = answerIds(p, [text], rules, o);
        const limit = maxLenRule(p.model, rules, o)(Math.max(source.length, 1)); // an empty source is fed as [</s>]
        return { text: p.targetTokenizer.decode(ids, { skipSpecial: true }), attentions: seq2seqAttentions(p, source, ids, ids.length < limit) };
      });
    } else {
      out = answerSeq2Seq(p, list, rules, o);
    }
    return typeof input === 'string' ? out[0] : out;
  };
  async function* stream(input: string, options?: Seq2SeqGenerationOptions): AsyncGenerator<string, void, undefined> {
    if (typeof input !== 'string') throw new PipelineError(`pipeline('${spec.task}').stream: input is ${Array.isArray(input) ? 'an array' : typeof input}, expected one string`);
    const o = merged(options);
    yield* streamSeq2Seq(p, input, rules, o);
  }
  return Object.assign(call, { stream, task: spec.task, pretrained: p }) as unknown as Seq2SeqPipeline;
}

function textGenerationPipeline(p: PretrainedCausal, base: TextGenerationCallOptions): TextGenerationPipeline {
  const merged = (o?: TextGenerationCallOptions): TextGenerationCallOptions => {
    checkOptionNames('text-generation', o, CAUSAL_OPTIONS);
    const m: TextGenerationCallOptions = { ...defined(base), ...defined(o) };
    checkCaps('text-generation', m);
    return m;
  };
  const call = async (input: string | readonly string[], options?: TextGenerationCallOptions) => {
    checkInput('text-generation', input);
    const o = merged(options);
    const full = o.returnFullText ?? true;
    const list = typeof input === 'string' ? [input] : [...input];
    const out = list.map((prompt) => {
      const a = generateText(p, prompt, o);
      const text = full ? prompt + a.text : a.text;
      return o.outputAttentions ? { text, attentions: causalAttentions(p, a.ids), warnings: a.warnings } : text;
    });
    return typeof input === 'string' ? out[0] : out;
  };
  async function* stream(input: string, options?: TextGenerationCallOptions): AsyncGenerator<string, void, undefined> {
    if (typeof input !== 'string') throw new PipelineError(`pipeline('text-generation').stream: input is ${Array.isArray(input) ? 'an array' : typeof input}, expected one string`);
    const o = merged(options);
    if ((o.returnFullText ?? true) && input) yield input;
    yield* streamText(p, input, o);
  }
  return Object.assign(call, { stream, task: 'text-generation' as const, pretrained: p }) as unknown as TextGenerationPipeline;
}

/** The most tokens a classifier reads of a text: its run's context (task options), within the model's positions. */
function classifierContext(p: PretrainedClassifier): number {
  const positions = classifierPositions(p.model);
  const ran = (p.config.task?.options as { model?: { context?: unknown } } | undefined)?.model?.context;
  return typeof ran === 'number' && Number.isInteger(ran) && ran >= 3 ? Math.min(ran, positions) : positions;
}

function checkTopK(task: PipelineTask, topK: unknown, allowNull: boolean): void {
  if (topK === undefined || (allowNull && topK === null)) return;
  if (!(typeof topK === 'number' && Number.isInteger(topK) && topK >= 1)) {
    throw new PipelineError(`pipeline('${task}'): topK is ${JSON.stringify(topK)}, expected an integer ≥ 1${allowNull ? ' or null (every label)' : ''}`);
  }
}

function textClassificationPipeline(p: PretrainedClassifier, base: TextClassificationCallOptions): TextClassificationPipeline {
  checkTopK('text-classification', base.topK, true);
  const context = classifierContext(p);
  const call = async (input: string | readonly string[], options?: TextClassificationCallOptions) => {
    checkInput('text-classification', input);
    checkOptionNames('text-classification', options, TOP_K_OPTIONS);
    const o = { ...base, ...options };
    checkTopK('text-classification', o.topK, true);
    const list = typeof input === 'string' ? [input] : [...input];
    const topK = o.topK === null ? undefined : (o.topK ?? 1);
    const out = classifyTexts(p, list, { topK, context });
    if (typeof input === 'string') return out[0];
    return topK === 1 ? out.map((a) => a[0]) : out;
  };
  return Object.assign(call, { task: 'text-classification' as const, pretrained: p }) as unknown as TextClassificationPipeline;
}

function fillMaskPipeline(p: PretrainedMaskedLM, base: FillMaskCallOptions): FillMaskPipeline {
  checkTopK('fill-mask', base.topK, false);
  const maskId = (p.tokenizer as Partial<WordPieceTokenizer>).maskId;
  if (typeof maskId !== 'number' || maskId < 0) {
    throw new PipelineError(`pipeline('fill-mask'): ${p.source}: its tokenizer (${p.tokenizer.constructor.name}) has no mask token, expected a WordPiece tokenizer with [MASK]`);
  }
  const tokenizer = p.tokenizer as WordPieceTokenizer;
  const call = async (input: string | readonly string[], options?: FillMaskCallOptions) => {
    checkInput('fill-mask', input);
    checkOptionNames('fill-mask', options, TOP_K_OPTIONS);
    const o = { ...base, ...options };
    checkTopK('fill-mask', o.topK, false);
    const one = (text: string) => {
      let fills: MaskFill[][];
      try {
        fills = fillMask({ model: p.model, tokenizer }, text, o);
      } catch (e) {
        throw e instanceof ArgumentError ? new PipelineError(`pipeline('fill-mask'): ${e.message.replace(/^fillMask: /, '')}`) : e;
      }
      return fills.length === 1 ? fills[0] : fills;
    };
    return typeof input === 'string' ? one(input) : input.map(one);
  };
  return Object.assign(call, { task: 'fill-mask' as const, pretrained: p }) as unknown as FillMaskPipeline;
}

/**
 * A pipeline over a loaded checkpoint, without loading anything: checks that the checkpoint fits
 * the task (kind and, for g2p and translation, the training task).
 *
 * @example
 * const g2p = pipelineFor('g2p', await loadPretrained(files));
 */
export function pipelineFor<T extends PipelineTaskName>(task: T, p: Pretrained, options?: PipelineOptions<T>): PipelineTypes[T];
export function pipelineFor(task: string, p: Pretrained, options?: PipelineOptions): AnyPipeline;
export function pipelineFor(task: string, p: Pretrained, options: PipelineOptions = {}): AnyPipeline {
  const spec = SPECS[pipelineTask(task, p.source)];
  checkFits(spec, p);
  const { backend: _backend, ...base } = options as PipelineOptions & { backend?: Backend };
  if (p.kind === 'bert-classifier' || p.kind === 'gpt-classifier') {
    checkOptionNames(spec.task, base, TOP_K_OPTIONS);
    return textClassificationPipeline(p, base as TextClassificationCallOptions);
  }
  if (p.kind === 'bert') {
    checkOptionNames(spec.task, base, TOP_K_OPTIONS);
    return fillMaskPipeline(p, base as FillMaskCallOptions);
  }
  checkCaps(spec.task, base);
  if (p.kind === 'gpt') {
    checkOptionNames(spec.task, base, CAUSAL_OPTIONS);
    return textGenerationPipeline(p, base as TextGenerationCallOptions);
  }
  checkOptionNames(spec.task, base, SEQ2SEQ_OPTIONS);
  return seq2seqPipeline(spec, p as PretrainedSeq2Seq | PretrainedLSTMSeq2Seq, base as Seq2SeqCallOptions);
}

/**
 * An async callable that answers with a checkpoint, by task: 'g2p' (word → ARPAbet), 'translation'
 * (alias 'translate'), 'text2text-generation' (any encoder-decoder, custom tasks too) and
 * 'text-generation' (alias 'generate', any decoder-only model). `model` is a loaded checkpoint
 * or its files ({ 'config.json': ..., 'model.safetensors': ..., 'tokenizer.json': ... }); on Node,
 * the pipeline of src/node also takes a folder. Options here are defaults for every call.
 * Each callable has `stream(text)`, an async iterator of text pieces, and takes
 * `{ outputAttentions: true }` to return `{ text, attentions }`.
 *
 * @example
 * const g2p = await pipeline('g2p', files);
 * await g2p('HELLO');                          // 'HH AH0 L OW1'
 * await g2p(['HELLO', 'WORLD'], { numBeams: 1 }); // two pronunciations, greedy
 * for await (const piece of g2p.stream('HELLO', { numBeams: 1 })) show(piece);
 */
export async function pipeline<T extends PipelineTaskName>(task: T, model: PipelineSource, options?: PipelineOptions<T>): Promise<PipelineTypes[T]>;
export async function pipeline(task: string, model: PipelineSource, options?: PipelineOptions): Promise<AnyPipeline>;
export async function pipeline(task: string, model: PipelineSource, options: PipelineOptions = {}): Promise<AnyPipeline> {
  if (typeof model === 'string') {
    throw new PipelineError(`pipeline('${task}'): model is the path ${JSON.stringify(model)}; a folder needs qkv's Node entry (src/node/index.ts), elsewhere pass the checkpoint's files or loadPretrained's result`);
  }
  pipelineTask(task);
  const p = isPretrainedFiles(model) ? await loadPretrained(model, { backend: options.backend }) : model;
  if (!p || typeof p !== 'object' || !('kind' in p) || !('model' in p)) {
    throw new PipelineError(`pipeline('${task}'): model is ${p === null ? 'null' : typeof p}, expected a loaded checkpoint (loadPretrained) or the checkpoint's files`);
  }
  return pipelineFor(task, p, options);
}
