// The Node entry point: the whole library, with the native backend as the default when it loads.

import { installDefaultBackend } from './backend-select.js';

installDefaultBackend();

export * from '../index.js';
export { loadNativeBackend, installDefaultBackend } from './backend-select.js';
export type { NativeOptions } from './backend-select.js';
export { createNativeBackend } from '../backend/native.js';
export type { NativeBackend, NativeAddon } from '../backend/native.js';
export { loadWasmBackend, packagedWasmPath } from './wasm.js';
export type { WasmNodeOptions } from './wasm.js';
export { DIR_MANIFEST, findCompleteCopy, isCompleteDir, writeFileAtomic, writeDirAtomic, loadSafetensorsFile, saveSafetensorsFile } from './atomic-write.js';
export { saveCheckpoint, readCheckpointDir, readCheckpointFiles, resolveCheckpointDir, loadCheckpoint, checkpointSaver } from './checkpoint.js';
export { SNAPSHOTS_DIR, listSnapshots, writeSnapshot } from './snapshots.js';
// A folder path or the files: these two shadow the files-only ones of the inference room.
export { loadPretrained, pipeline } from './pretrained.js';
export { gpt2Tokenizer, GPT2_TOKENIZER_PACKAGE } from './gpt2-tokenizer.js';
export type { LoadedCheckpoint, CheckpointSaverInfo } from './checkpoint.js';
export { progressBar, formatSeconds, barProgress } from './progress.js';
export type { ProgressBar, ProgressBarOptions, BarProgress, RunPosition } from './progress.js';
export { jsonlLog } from './jsonl-log.js';
export type { JsonlLog } from './jsonl-log.js';
export { train } from './train.js';
export type { TrainOptions } from './train.js';
