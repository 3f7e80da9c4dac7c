// The parts of qkv's browser entry (src/index.ts) the page uses, imported from their rooms: the entry's barrel
// would also bundle what the page never calls (zod's config schemas, the mail parsers of the data room).

export { refBackend } from '../../src/backend/ref.js';
export { createWasmBackend, instantiateWasm } from '../../src/backend/wasm.js';
export type { Backend } from '../../src/backend/backend.js';
export { Rng } from '../../src/core/rng.js';
export { tensor, crossEntropy, withStorageScope, setDefaultBackend } from '../../src/tensor/index.js';
export type { Tensor } from '../../src/tensor/index.js';
export { Adam, PAPER_ADAM, LrScheduler, cosineSchedule, clipGradNorm } from '../../src/optim/index.js';
export { CharTokenizer, SymbolTokenizer } from '../../src/tokenizers/index.js';
export { Transformer } from '../../src/models/transformer.js';
export { GPT } from '../../src/models/gpt.js';
export { CHECKPOINT_FORMAT, QKV_VERSION, checkpointFiles } from '../../src/train/checkpoint.js';
export {
  PRETRAINED_FILES, attentionView, causalAttentions, decodeAll, embedAttentionView, loadPretrained, VIEW_FORMAT,
} from '../../src/inference/index.js';
export type { AttentionView, Pretrained, PretrainedSeq2Seq } from '../../src/inference/index.js';
