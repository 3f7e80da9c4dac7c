// The serve room's public face: startServer and its options.

export { startServer } from './server.js';
export type { ServeOptions, ModelSpec, QkvServer, ShutdownReport } from './server.js';
export { Scheduler } from './scheduler.js';
export type { Admission } from './scheduler.js';
export { SERVE_LIMITS } from './schemas.js';
export type { Endpoint, ModelInfo } from './protocol.js';
