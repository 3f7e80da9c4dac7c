// The tensor room's public face.

export { Tensor } from './tensor.js';
export type { GradNode, TensorLike } from './tensor.js';
export { noGrad, isGradEnabled } from './grad-mode.js';
export { defaultBackend, setDefaultBackend } from './default-backend.js';
export { tensor, full, zeros, ones, arange, randn, uniform } from './create.js';
export type { CreateOptions } from './create.js';
export { scalarLike, onesLike, zerosLike } from './ops/elementwise.js';
export { sumToShape } from './ops/reduce.js';
export { concat, split } from './ops/shape.js';
export { matmul } from './ops/matmul.js';
export { embedding, where, maskedFill } from './ops/index.js';
export { softmax, logSoftmax, layerNorm, gelu, geluTanh, dropout, dropoutMask, crossEntropy } from './ops/functional.js';
export type { CrossEntropyOptions } from './ops/functional.js';
export { withStorageScope } from './scope.js';
