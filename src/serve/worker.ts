// A model's thread: loads one checkpoint, decodes its continuations with continuous batching, and answers one-shot tasks in batches.

import { parentPort, workerData } from 'node:worker_threads';
import { ArgumentError } from '../core/errors.js';
import { TextBatch } from '../inference/batch-text.js';
import type { TextEvent } from '../inference/batch-text.js';
import { causalAttentionsBatch } from '../inference/attentions.js';
import type { AttentionMap } from '../inference/attentions.js';
import { beamTexts, fitContext, generateText } from '../inference/causal.js';
import { pipelineFor } from '../inference/pipeline.js';
import type { Pretrained } from '../inference/pretrained.js';
import { installDefaultBackend } from '../node/backend-select.js';
import { loadPretrained } from '../node/pretrained.js';
import type { BeamAnswer, CompletionJob, Endpoint, FromWorker, ModelInfo, TaskJob, ToWorker, WireEvent, WorkerInit } from './protocol.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The endpoints of a checkpoint: by kind, and for encoder-decoders by the task they were trained on. */
function endpointsOf(p: Pretrained): Endpoint[] {
  if (p.kind === 'gpt') return ['completions', 'attention'];
  if (p.kind === 'bert-classifier' || p.kind === 'gpt-classifier') return ['classify'];
  if (p.kind === 'transformer') return [...(p.task === 'g2p' ? ['g2p' as const] : p.task === 'translate' ? ['translate' as const] : []), 'attention'];
  if (p.kind === 'lstm-seq2seq') return p.task === 'g2p' ? ['g2p'] : p.task === 'translate' ? ['translate'] : [];
  return [];
}

function infoOf(p: Pretrained): ModelInfo {
  const cfg = p.model.config as { context?: number; maxLen?: number; maxPositions?: number };
  const info: ModelInfo = { name: init.name, source: p.source, kind: p.kind, task: p.task, context: cfg.context ?? cfg.maxLen ?? cfg.maxPositions ?? 0, endpoints: endpointsOf(p) };
  if (p.kind === 'bert-classifier' || p.kind === 'gpt-classifier') info.labels = [...p.model.labels];
  return info;
}

/** A continuation waiting for a row, or being decoded. */
interface Generation { id: number; job: CompletionJob; seq: number | null }

/** A one-shot task, and the flag the main thread sets when it gives the task up. */
interface Task { id: number; job: TaskJob; cancel: Int32Array }

/** Thrown between decoding steps of a batch of tasks that were all given up: the thread stops working on them. */
class TasksCancelled extends Error {}

const cancelled = (t: Task) => Atomics.load(t.cancel, 0) === 1;

/** Attention maps as the wire carries them (shape and weights; the scores stay here). */
const maps = (list: AttentionMap[]) => list.map((m) => ({ shape: m.shape, data: m.data }));

class ModelThread {
  private readonly batch: TextBatch | null;
  private readonly waiting: Generation[] = [];
  private readonly bySeq = new Map<number, Generation>();
  private readonly byId = new Map<number, Generation>();
  private tasks: Task[] = [];
  private scheduled = false;
  private running = false;

  constructor(private readonly p: Pretrained) {
    this.batch = p.kind === 'gpt' ? new TextBatch(p, { slots: init.slots, batched: init.batched }) : null;
  }

  receive(m: ToWorker): void {
    if (m.type === 'generate') {
      const g: Generation = { id: m.id, job: m.job, seq: null };
      this.byId.set(m.id, g);
      this.waiting.push(g);
    } else if (m.type === 'cancel') {
      const g = this.byId.get(m.id);
      if (!g) return;
      this.byId.delete(m.id);
      if (g.seq === null) this.waiting.splice(this.waiting.indexOf(g), 1);
      else {
        this.batch!.leave(g.seq);
        this.bySeq.delete(g.seq);
      }
    } else if (m.type === 'cancel-task') {
      // A task not yet started is dropped here; one running stops at its next check of its flag.
      const i = this.tasks.findIndex((t) => t.id === m.id);
      if (i >= 0) {
        this.tasks.splice(i, 1);
        post({ type: 'failed', id: m.id, message: 'cancelled', badRequest: false, cancelled: true });
      }
      return;
    } else if (m.type === 'stats') {
      post({ type: 'stats', id: m.id, stats: { rows: this.batch?.active ?? 0, waiting: this.waiting.length, tasks: this.tasks.length } });
      return;
    } else {
      this.tasks.push({ id: m.id, job: m.job, cancel: m.cancel });
    }
    this.kick();
  }

  /** Runs the loop soon, after the messages already queued (setImmediate: messages are read between iterations). */
  private kick(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => void this.loop());
  }

  /** One turn: admit waiting continuations into free rows, answer the one-shot tasks, then one decoding step. */
  private async loop(): Promise<void> {
    this.scheduled = false;
    this.running = true;
    try {
      await this.turn();
    } finally {
      this.running = false;
    }
    const b = this.batch;
    if ((b && (b.active > 0 || this.waiting.length > 0)) || this.tasks.length > 0) this.kick();
  }

  private async turn(): Promise<void> {
    const b = this.batch;
    if (b) {
      while (this.waiting.length > 0 && b.active < b.slots) this.admit(this.waiting.shift()!);
    }
    if (this.tasks.length > 0) await this.answerTasks();
    if (b && b.active > 0) {
      const t0 = performance.now();
      let events: TextEvent[];
      try {
        events = b.step();
      } catch (e) {
        this.failAll(message(e));
        return;
      }
      const seconds = (performance.now() - t0) / 1000;
      const wire: WireEvent[] = [];
      for (const e of events) {
        const g = this.bySeq.get(e.seq);
        if (!g) continue;
        wire.push({ id: g.id, text: e.text, tokens: e.tokens, finish: e.finish });
        if (e.finish) this.forget(g);
      }
      post({ type: 'step', batch: events.length, seconds, events: wire });
    }
  }

  private admit(g: Generation): void {
    const j = g.job;
    try {
      const r = this.batch!.join(j.prompt, {
        maxNewTokens: j.maxTokens, doSample: j.temperature > 0, temperature: j.temperature, topP: j.topP, seed: j.seed, stop: j.stop,
      });
      const first = { id: g.id, text: r.first.text, tokens: r.first.tokens, finish: r.first.finish };
      if (r.first.finish) this.byId.delete(g.id);
      else {
        g.seq = r.seq;
        this.bySeq.set(r.seq, g);
      }
      post({ type: 'joined', id: g.id, promptTokens: r.promptTokens, warnings: r.warnings, first });
    } catch (e) {
      this.byId.delete(g.id);
      post({ type: 'failed', id: g.id, message: message(e), badRequest: e instanceof ArgumentError });
    }
  }

  private forget(g: Generation): void {
    this.byId.delete(g.id);
    if (g.seq !== null) this.bySeq.delete(g.seq);
  }

  /** A step that threw (a bug, not a request's fault): every live continuation fails, the rows are emptied. */
  private failAll(why: string): void {
    for (const g of this.bySeq.values()) {
      this.batch!.leave(g.seq!);
      this.byId.delete(g.id);
      post({ type: 'failed', id: g.id, message: why, badRequest: false });
    }
    this.bySeq.clear();
  }

  /**
   * Every queued one-shot task, those of one kind and options in one call (one batch of sources; a GPT's attention
   * requests, whatever their options, in one forward pass). Tasks given up before their turn are dropped.
   */
  private async answerTasks(): Promise<void> {
    const tasks = this.tasks;
    this.tasks = [];
    const groups = new Map<string, Task[]>();
    for (const t of tasks) {
      if (cancelled(t)) {
        post({ type: 'failed', id: t.id, message: 'cancelled', badRequest: false, cancelled: true });
        continue;
      }
      const { input: _input, ...options } = t.job;
      const key = t.job.task === 'attention' ? (this.p.kind === 'gpt' ? 'attention' : `attention:${t.id}`) : JSON.stringify(options);
      groups.set(key, [...(groups.get(key) ?? []), t]);
    }
    for (const group of groups.values()) {
      const t0 = performance.now();
      try {
        const results = await this.answer(group);
        group.forEach((t, i) => post({ type: 'answer', id: t.id, result: results[i] }));
      } catch (e) {
        if (e instanceof TasksCancelled) {
          for (const t of group) post({ type: 'failed', id: t.id, message: 'cancelled', badRequest: false, cancelled: true });
        } else if (group.length === 1) {
          post({ type: 'failed', id: group[0].id, message: message(e), badRequest: e instanceof ArgumentError });
        } else {
          // One bad input fails its own request only: a group that failed is answered one by one.
          for (const t of group) await this.answerOne(t);
        }
      }
      post({ type: 'oneshot', batch: group.length, seconds: (performance.now() - t0) / 1000 });
    }
  }

  private async answerOne(t: Task): Promise<void> {
    try {
      post({ type: 'answer', id: t.id, result: (await this.answer([t]))[0] });
    } catch (e) {
      const stopped = e instanceof TasksCancelled;
      post({ type: 'failed', id: t.id, message: stopped ? 'cancelled' : message(e), badRequest: e instanceof ArgumentError, cancelled: stopped || undefined });
    }
  }

  /** The answers of tasks of one kind and options, in order: the inputs of all of them go through one pipeline call. */
  private async answer(tasks: Task[]): Promise<unknown[]> {
    const jobs = tasks.map((t) => t.job);
    const j = jobs[0];
    const p = this.p;
    // Between decoding steps: stop when every task of the batch was given up.
    const check = () => { if (tasks.every(cancelled)) throw new TasksCancelled(); };
    if (j.task === 'attention') {
      return p.kind === 'gpt' ? this.gptAttentions(jobs as Extract<TaskJob, { task: 'attention' }>[])
        : Promise.all(jobs.map((job) => this.attention(job as Extract<TaskJob, { task: 'attention' }>)));
    }
    if (j.task === 'beam') {
      if (p.kind !== 'gpt') throw new ArgumentError(`model '${init.name}' is a ${p.kind}, which beam search completions do not take`);
      const o = { numBeams: j.numBeams, numReturn: j.n, lengthPenalty: j.lengthPenalty, maxNewTokens: j.maxTokens, onStep: check };
      return beamTexts(p, jobs.map((job) => (job as Extract<TaskJob, { task: 'beam' }>).input), o).map((a): BeamAnswer => ({
        promptTokens: a.promptTokens, warnings: a.warnings, choices: a.hypotheses.map((h) => ({ text: h.text, tokens: h.ids.length, finish: h.finish })),
      }));
    }
    const inputs = jobs.flatMap((job) => (job as { input: string[] }).input);
    let all: unknown[];
    if (j.task === 'classify') {
      all = await pipelineFor('text-classification', p)(inputs, { topK: j.topK });
    } else {
      const o = { numBeams: j.numBeams, lengthPenalty: j.lengthPenalty, maxNewTokens: j.maxNewTokens };
      all = await pipelineFor(j.task === 'g2p' ? 'g2p' : 'translation', p)(inputs, o);
    }
    let at = 0;
    return jobs.map((job) => {
      const n = (job as { input: string[] }).input.length;
      at += n;
      return all.slice(at - n, at);
    });
  }

  /** A GPT's attention requests: each text generated (when asked) on its own, then every one's maps in one forward pass. */
  private gptAttentions(jobs: Extract<TaskJob, { task: 'attention' }>[]): unknown[] {
    const p = this.p as Extract<Pretrained, { kind: 'gpt' }>;
    const texts: string[] = [];
    const rows = jobs.map((job) => {
      if (job.maxNewTokens > 0) {
        const a = generateText(p, job.input, { maxNewTokens: job.maxNewTokens });
        texts.push(a.text);
        return a.ids;
      }
      texts.push('');
      const encoded = p.tokenizer.encode(job.input);
      return fitContext(encoded.length > 0 ? encoded : [p.tokenizer.eosId], 1, p.model.config.context).promptIds;
    });
    return causalAttentionsBatch(p, rows).map((a, i) => ({ text: texts[i], tokens: a.tokens, selfAttentions: maps(a.selfAttentions) }));
  }

  private async attention(job: Extract<TaskJob, { task: 'attention' }>): Promise<unknown> {
    const p = this.p;
    if (p.kind !== 'transformer') throw new ArgumentError(`model '${init.name}' is a ${p.kind}, which /v1/attention does not take`);
    const task = p.task === 'g2p' ? 'g2p' : p.task === 'translate' ? 'translation' : 'text2text-generation';
    const out = await pipelineFor(task, p)(job.input, { outputAttentions: true, numBeams: 1, ...(job.maxNewTokens > 0 ? { maxNewTokens: job.maxNewTokens } : {}) });
    const a = out.attentions;
    return {
      text: out.text, sourceTokens: a.sourceTokens, targetTokens: a.targetTokens, encoderSelfAttentions: maps(a.encoderSelfAttentions),
      decoderSelfAttentions: maps(a.decoderSelfAttentions), crossAttentions: maps(a.crossAttentions),
    };
  }
}

try {
  installDefaultBackend({ threads: init.threads });
  const p = await loadPretrained(init.path, { source: init.path });
  const info = infoOf(p);
  if (info.endpoints.length === 0) throw new ArgumentError(`${init.path} holds a '${p.kind}' model (task ${p.task ?? 'none'}), which no endpoint of qkv serve answers (completions: gpt; g2p/translate: a transformer trained on that task; classify: a classifier)`);
  const thread = new ModelThread(p);
  port.on('message', (m: ToWorker) => thread.receive(m));
  post({ type: 'ready', info });
} catch (e) {
  post({ type: 'start-failed', message: message(e) });
}
