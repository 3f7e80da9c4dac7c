// The Node entry point: the whole library, with the native backend as the default when it loads.

import { installDefaultBackend } from './backend-select.js';

installDefaultBackend();

export * from '../index.js';
export { loadNativeBackend, installDefaultBackend } from './backend-select.js';
export type { NativeOptions } from './backend-select.js';
export { createNativeBackend } from '../backend/native.js';
export type { NativeBackend, NativeAddon } from '../backend/native.js';
