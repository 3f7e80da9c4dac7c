// What the server's main thread and its model threads say to each other (plain data, structured-cloned).

/** The endpoints a model can answer. */
export type Endpoint = 'completions' | 'g2p' | 'translate' | 'classify' | 'attention';

/** A served model, as its thread reports it once loaded. */
export interface ModelInfo {
  /** The name requests use (`model`). */
  name: string;
  /** The folder it was loaded from. */
  source: string;
  /** Its kind (PRETRAINED_KINDS): 'gpt', 'transformer', 'lstm-seq2seq', 'bert', 'bert-classifier', 'gpt-classifier'. */
  kind: string;
  /** The task config.json records, or null. */
  task: string | null;
  /** Its context (GPT) or longest target (encoder-decoder), in tokens. */
  context: number;
  endpoints: Endpoint[];
  /** Label names of a classifier. */
  labels?: string[];
}

/** What starts a model thread. */
export interface WorkerInit {
  name: string;
  path: string;
  /** Continuations decoded at once. */
  slots: number;
  /** One batched call per decoding step (true), or one call per sequence (batching off). */
  batched: boolean;
  /** Kernel threads of the native backend (process-wide). */
  threads: number;
}

/** A completion to decode (already validated). */
export interface CompletionJob {
  prompt: string;
  maxTokens: number;
  /** 0: greedy. */
  temperature: number;
  topP?: number;
  seed: number;
  stop: string[];
}

/** A one-shot request (already validated): answered whole, batched with others of its kind. */
export type TaskJob =
  | { task: 'g2p' | 'translate'; input: string[]; numBeams?: number; lengthPenalty?: number; maxNewTokens?: number }
  | { task: 'classify'; input: string[]; topK: number | null }
  | { task: 'attention'; input: string; maxNewTokens: number }
  /** A GPT completion by beam search: the `n` best of `numBeams` beams, each at most `maxTokens` tokens (eos included). */
  | { task: 'beam'; input: string; numBeams: number; n: number; lengthPenalty?: number; maxTokens: number };

/** One beam search completion's answer: the prompt as read, what was cut to fit, and the best hypotheses, best first. */
export interface BeamAnswer {
  promptTokens: number;
  warnings: string[];
  choices: { text: string; tokens: number; finish: 'stop' | 'length' }[];
}

/** One continuation's news from a step. */
export interface WireEvent {
  id: number;
  text: string;
  /** Tokens generated so far. */
  tokens: number;
  finish: 'stop' | 'length' | null;
}

export type ToWorker =
  | { type: 'generate'; id: number; job: CompletionJob }
  | { type: 'cancel'; id: number }
  /** cancel: one Int32 the main thread sets to 1 when the request is given up (read by the thread between steps). */
  | { type: 'task'; id: number; job: TaskJob; cancel: Int32Array }
  /** Drops a queued task (a running one stops at its next check of `cancel`). */
  | { type: 'cancel-task'; id: number }
  | { type: 'stats'; id: number };

export type FromWorker =
  | { type: 'ready'; info: ModelInfo }
  | { type: 'start-failed'; message: string }
  | { type: 'joined'; id: number; promptTokens: number; warnings: string[]; first: WireEvent }
  | { type: 'step'; batch: number; seconds: number; events: WireEvent[] }
  /** cancelled: a task the thread stopped (or never started) because it was cancelled. */
  | { type: 'failed'; id: number; message: string; badRequest: boolean; cancelled?: boolean }
  | { type: 'answer'; id: number; result: unknown }
  | { type: 'oneshot'; batch: number; seconds: number }
  | { type: 'stats'; id: number; stats: WorkerStats };

/** What a model thread holds: continuations in rows, waiting for one, and one-shot tasks queued. */
export interface WorkerStats {
  rows: number;
  waiting: number;
  tasks: number;
}
