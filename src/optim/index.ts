// The optim room's public face: optimizers, learning-rate schedules, gradient clipping.

export { Optimizer } from './optimizer.js';
export type { OptimizerState } from './optimizer.js';
export { Adam, AdamW, PAPER_ADAM } from './adam.js';
export type { AdamOptions } from './adam.js';
export { SGD } from './sgd.js';
export type { SgdOptions } from './sgd.js';
export { noamSchedule, cosineSchedule, constantSchedule, warmupHoldSchedule, withCooldown, LrScheduler } from './schedules.js';
export type { Schedule, NoamOptions, CosineOptions } from './schedules.js';
export { clipGradNorm } from './clip.js';
