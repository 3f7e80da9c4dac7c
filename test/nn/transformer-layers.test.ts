// Encoder and decoder layers against torch.nn.TransformerEncoderLayer / TransformerDecoderLayer, on every backend.

import { after, test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import type { Tensor } from '../../src/tensor/index.js';
import { TransformerDecoderLayer, TransformerEncoderLayer } from '../../src/nn/index.js';
import type { Activation, Module } from '../../src/nn/index.js';
import { describeBackends } from '../helpers/backends.js';
import { Golden, expectClose, loadGolden, reportWorst } from './golden.js';

function checkGrads(t: { diagnostic(s: string): void }, g: Golden, m: Module, inputs: Record<string, Tensor>, fwd: number, att: number): void {
  let grad = 0;
  for (const [name, p] of m.namedParameters()) grad = Math.max(grad, expectClose(p.grad!, g.get(`@grad.${name}`), 1e-4, `grad ${name}`, 'gradient'));
  for (const [name, x] of Object.entries(inputs)) grad = Math.max(grad, expectClose(x.grad!, g.get(`@grad_in.${name}`), 1e-4, `grad input ${name}`, 'gradient'));
  t.diagnostic(`relative errors on ${m.parameters()[0].backend.name}: output ${fwd.toExponential(2)}, weights ${att.toExponential(2)}, gradients ${grad.toExponential(2)}`);
}

describeBackends('Transformer layer golden', (backend) => {
  for (const tag of ['post_relu', 'post_gelu', 'pre_relu', 'pre_gelu']) {
    test(`TransformerEncoderLayer matches torch: ${tag}`, (t) => {
      const g = loadGolden(`encoder_layer_${tag}.safetensors`, backend);
      const layer = new TransformerEncoderLayer(16, 4, {
        dFF: 32, dropout: 0, rng: new Rng(0), backend,
        normFirst: g.case.normFirst as boolean, activation: g.case.activation as Activation,
      });
      layer.loadStateDict(g.params);
      const x = g.get('@in.x').requireGrad();
      const r = layer.forward(x, {
        srcKeyPaddingMask: g.get('@in.src_key_padding_mask'),
        srcMask: g.has('@in.src_mask') ? g.get('@in.src_mask') : null,
        needWeights: true,
      });
      const fwd = expectClose(r.output, g.get('@out'), 1e-5, 'output', 'forward');
      const att = expectClose(r.selfAttention, g.get('@attn.self_attn'), 1e-5, 'self-attention', 'attention');
      r.output.mul(g.get('@R')).sum().backward();
      checkGrads(t, g, layer, { x }, fwd, att);
    });

    test(`TransformerDecoderLayer matches torch: ${tag}`, (t) => {
      const g = loadGolden(`decoder_layer_${tag}.safetensors`, backend);
      const layer = new TransformerDecoderLayer(16, 4, {
        dFF: 32, dropout: 0, rng: new Rng(0), backend,
        normFirst: g.case.normFirst as boolean, activation: g.case.activation as Activation,
      });
      layer.loadStateDict(g.params);
      const tgt = g.get('@in.tgt').requireGrad();
      const memory = g.get('@in.memory').requireGrad();
      const r = layer.forward(tgt, memory, {
        tgtMask: g.get('@in.tgt_mask'),
        tgtKeyPaddingMask: g.get('@in.tgt_key_padding_mask'),
        memoryKeyPaddingMask: g.get('@in.memory_key_padding_mask'),
        needWeights: true,
      });
      const fwd = expectClose(r.output, g.get('@out'), 1e-5, 'output', 'forward');
      const att = Math.max(
        expectClose(r.selfAttention, g.get('@attn.self_attn'), 1e-5, 'self-attention', 'attention'),
        expectClose(r.crossAttention, g.get('@attn.multihead_attn'), 1e-5, 'cross-attention', 'attention'),
      );
      r.output.mul(g.get('@R')).sum().backward();
      checkGrads(t, g, layer, { tgt, memory }, fwd, att);
    });
  }
});

after(() => reportWorst('layer'));
