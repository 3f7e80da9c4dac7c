// Messages between the page and its training worker.

import type { AttentionView } from '../../../src/inference/view-json.js';

/** What the page asks of the worker. */
export type ToWorker =
  | { type: 'start'; steps: number; seed: number; batch: number; evalEvery: number; stopAtPerfect: boolean }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'checkpoint' };

/** What the worker tells the page. */
export type FromWorker =
  | { type: 'ready'; backend: string; note: string | null }
  | { type: 'progress'; step: number; steps: number; loss: number; stepMs: number }
  | { type: 'eval'; step: number; exactMatch: number; seconds: number; view: AttentionView }
  | { type: 'paused'; step: number }
  /** The run ended: all its steps, or (stopAtPerfect) the first evaluation at 100% exact match. */
  | { type: 'done'; step: number; exactMatch: number; seconds: number; perfect: boolean }
  | { type: 'checkpoint'; step: number; files: Record<string, Uint8Array | string> }
  | { type: 'error'; message: string };
