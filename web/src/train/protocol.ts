// Messages between the page and its training worker.

import type { AttentionView } from '../../../src/inference/view-json.js';

/** What the page asks of the worker. */
export type ToWorker =
  | { type: 'start'; steps: number; seed: number; batch: number; evalEvery: number }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'checkpoint' };

/** What the worker tells the page. */
export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'progress'; step: number; steps: number; loss: number; stepMs: number }
  | { type: 'eval'; step: number; exactMatch: number; view: AttentionView }
  | { type: 'paused'; step: number }
  | { type: 'done'; step: number; exactMatch: number; seconds: number }
  | { type: 'checkpoint'; step: number; files: Record<string, Uint8Array | string> }
  | { type: 'error'; message: string };
