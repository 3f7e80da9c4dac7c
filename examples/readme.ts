// The README's quick tour, runnable: build a Transformer, take one training step, read attention.
// Run: node --import tsx examples/readme.ts

import { Adam, PAPER_ADAM, Transformer, crossEntropy, tensor, withStorageScope } from '../src/node/index.js';

const model = new Transformer({ srcVocab: 11, tgtVocab: 11, dModel: 32, heads: 4, dFF: 64, encoderLayers: 2, decoderLayers: 2 });
const optim = new Adam(model.parameters(), { lr: 1e-3, ...PAPER_ADAM });

const src = tensor([[1, 4, 7, 2, 9]], { dtype: 'int32' }); // [B=1, S=5]
const tgtIn = tensor([[1, 4, 7, 2]], { dtype: 'int32' });  // [B, T=4], shifted right
const tgtOut = tensor([[4, 7, 2, 9]], { dtype: 'int32' }); // [B, T]

// One training step with the paper's label smoothing.
const { logits } = model.forward(src, tgtIn); // [1, 4, 11]
const loss = crossEntropy(logits.reshape([-1, 11]), tgtOut.reshape([-1]), { labelSmoothing: 0.1 });
optim.zeroGrad();
loss.backward();
optim.step();
console.log('loss', loss.item().toFixed(4));

// Attention weights of every layer and head, returned (not stashed) when asked for.
const out = model.forward(src, tgtIn, { needWeights: true });
const cross = out.crossAttentions![1]; // decoder layer 2: [B, H, T, S] = [1, 4, 4, 5]
const row = cross.narrow(1, 0, 1).narrow(2, 0, 1).reshape([-1]); // head 0, target position 0: [S]
console.log('head 0, target 0 attends to source positions:', Array.from(row.toArray(), (w) => w.toFixed(3)).join(' '));

// A step in a storage scope: its buffers back the next step's; the loss leaves as a number.
const lossValue = withStorageScope(src.backend, () => {
  const { logits } = model.forward(src, tgtIn);
  const loss = crossEntropy(logits.reshape([-1, 11]), tgtOut.reshape([-1]), { labelSmoothing: 0.1 });
  optim.zeroGrad();
  loss.backward();
  optim.step();
  optim.zeroGrad();
  return loss.item();
}, () => optim.liveTensors()); // what lives on: parameters, Adam's moments
console.log('loss after one more step', lossValue.toFixed(4));
