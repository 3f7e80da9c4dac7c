// The full encoder-decoder against PyTorch (embeddings·√D + sinusoids + nn.Transformer + generator),
// on every backend, plus its names, defaults and config checks.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { crossEntropy, noGrad, tensor } from '../../src/tensor/index.js';
import { keyPaddingMaskFromIds } from '../../src/nn/index.js';
import type { Activation } from '../../src/nn/index.js';
import { Transformer, resolveConfig } from '../../src/models/transformer.js';
import { describeBackends } from '../helpers/backends.js';
import { expectClose, loadGolden, reportWorst } from '../nn/golden.js';

describeBackends('Transformer golden', (backend) => {
  for (const file of ['model_post_relu', 'model_pre_gelu_shared', 'model_post_relu_nofinal']) {
    test(`matches PyTorch: ${file}`, (t) => {
      const g = loadGolden(`${file}.safetensors`, backend);
      const c = g.case;
      const model = new Transformer({
        srcVocab: c.srcVocab as number, tgtVocab: c.tgtVocab as number, dModel: 16, heads: 4, dFF: 32,
        encoderLayers: 2, decoderLayers: 2, dropout: 0, normFirst: c.normFirst as boolean,
        activation: c.activation as Activation, finalNorm: c.finalNorm as boolean,
        shareEmbeddings: c.shareEmbeddings as boolean, maxLen: 64, seed: 7, backend,
      });
      model.loadStateDict(g.params); // strict: every name on both sides
      const src = g.get('@in.src');
      const tgtIn = g.get('@in.tgt_in');
      const tgtOut = g.get('@in.tgt_out');
      const pad = c.pad as number;
      const r = model.forward(src, tgtIn, {
        srcPaddingMask: keyPaddingMaskFromIds(src, pad),
        tgtPaddingMask: keyPaddingMaskFromIds(tgtIn, pad),
        needWeights: true,
      });
      assert.equal(r.logits.backend, backend);
    const fwd = expectClose(r.logits, g.get('@out'), 1e-5, 'logits', 'forward');
      let att = 0;
      const maps = [
        ...r.encoderSelfAttentions!.map((w, i) => [`encoder.layers.${i}.self_attn`, w] as const),
        ...r.decoderSelfAttentions!.map((w, i) => [`decoder.layers.${i}.self_attn`, w] as const),
        ...r.crossAttentions!.map((w, i) => [`decoder.layers.${i}.multihead_attn`, w] as const),
      ];
      assert.equal(maps.length, 6);
      for (const [name, w] of maps) att = Math.max(att, expectClose(w, g.get(`@attn.${name}`), 1e-5, name, 'attention'));

      const V = c.tgtVocab as number;
      const loss = crossEntropy(r.logits.reshape([-1, V]), tgtOut.reshape([-1]), { ignoreIndex: pad, labelSmoothing: c.labelSmoothing as number });
      const lossErr = expectClose(loss.reshape([1]), g.get('@loss'), 1e-5, 'loss', 'forward');
      loss.backward();
      let grad = 0;
      const named = model.namedParameters();
      assert.deepEqual(named.map(([n]) => n).sort(), g.keys('@grad.').map((k) => k.slice(6)).sort(), 'one gradient per parameter, named alike');
      for (const [name, p] of named) grad = Math.max(grad, expectClose(p.grad!, g.get(`@grad.${name}`), 1e-4, `grad ${name}`, 'gradient'));
      t.diagnostic(`relative errors on ${backend.name}: logits ${fwd.toExponential(2)}, loss ${lossErr.toExponential(2)}, weights ${att.toExponential(2)}, gradients ${grad.toExponential(2)}`);
    });
  }
});

test('defaults are the paper base model; finalNorm follows normFirst', () => {
  const c = resolveConfig({ srcVocab: 100, tgtVocab: 100 });
  assert.deepEqual(
    [c.dModel, c.heads, c.encoderLayers, c.decoderLayers, c.dFF, c.dropout, c.normFirst, c.finalNorm, c.activation, c.positional],
    [512, 8, 6, 6, 2048, 0.1, false, false, 'relu', 'sinusoidal'],
  );
  assert.equal(resolveConfig({ srcVocab: 5, tgtVocab: 5, normFirst: true }).finalNorm, true);
  assert.throws(() => resolveConfig({ srcVocab: 5, tgtVocab: 6, shareEmbeddings: true }), /shareEmbeddings needs srcVocab = tgtVocab, got 5 and 6/);
  assert.throws(() => resolveConfig({ srcVocab: 5, tgtVocab: 5, dModel: 10, heads: 4 }), /dModel 10 must be divisible by heads 4/);
});

test('state-dict names: embeddings, stacks, optional norms, generator, learned positions', () => {
  const small = { srcVocab: 7, tgtVocab: 9, dModel: 8, heads: 2, dFF: 16, encoderLayers: 1, decoderLayers: 1 };
  const keys = [...new Transformer(small).stateDict().keys()];
  assert.equal(keys[0], 'src_embed.weight');
  assert.equal(keys[1], 'tgt_embed.weight');
  assert.ok(keys.includes('encoder.layers.0.self_attn.in_proj_weight'));
  assert.ok(keys.includes('decoder.layers.0.multihead_attn.out_proj.bias'));
  assert.ok(keys.includes('decoder.layers.0.norm3.weight'));
  assert.deepEqual(keys.slice(-2), ['generator.weight', 'generator.bias']);
  assert.ok(!keys.some((k) => k.startsWith('encoder.norm') || k.startsWith('decoder.norm')), 'post-norm: no final norms by default');
  const pre = [...new Transformer({ ...small, normFirst: true, positional: 'learned' }).stateDict().keys()];
  assert.ok(pre.includes('encoder.norm.weight') && pre.includes('decoder.norm.bias') && pre.includes('pos_embed.weight'));
});

test('shared embeddings: one tensor under three names, used by both embeddings and the generator', () => {
  const m = new Transformer({ srcVocab: 7, tgtVocab: 7, dModel: 8, heads: 2, dFF: 16, encoderLayers: 1, decoderLayers: 1, shareEmbeddings: true });
  const sd = m.stateDict();
  assert.equal(sd.get('src_embed.weight'), sd.get('tgt_embed.weight'));
  assert.equal(sd.get('src_embed.weight'), sd.get('generator.weight'));
  assert.equal(m.parameters().filter((p) => p === m.srcEmbed.weight).length, 1);
});

test('same seed, same model; dropout is active in train() and off in eval()', () => {
  const cfg = { srcVocab: 7, tgtVocab: 7, dModel: 8, heads: 2, dFF: 16, encoderLayers: 1, decoderLayers: 1, dropout: 0.5, seed: 3 };
  const a = new Transformer(cfg);
  const b = new Transformer(cfg);
  for (const [n, p] of a.stateDict()) assert.deepEqual(Array.from(p.toArray()), Array.from(b.stateDict().get(n)!.toArray()), n);
  const src = tensor([[1, 2, 3]], { dtype: 'int32' });
  const tgt = tensor([[1, 4]], { dtype: 'int32' });
  const run = () => Array.from(noGrad(() => a.forward(src, tgt).logits).toArray());
  a.train();
  assert.notDeepEqual(run(), run(), 'dropout masks differ between calls');
  a.eval();
  assert.deepEqual(run(), run());
});

test('the decoder is causal: changing a later target token leaves earlier logits unchanged', () => {
  const m = new Transformer({ srcVocab: 7, tgtVocab: 7, dModel: 8, heads: 2, dFF: 16, encoderLayers: 1, decoderLayers: 1, dropout: 0, seed: 5 });
  const src = tensor([[1, 2, 3]], { dtype: 'int32' });
  const l1 = m.forward(src, tensor([[1, 4, 5]], { dtype: 'int32' })).logits;
  const l2 = m.forward(src, tensor([[1, 4, 6]], { dtype: 'int32' })).logits;
  assert.deepEqual(Array.from(l1.narrow(1, 0, 2).contiguous().toArray()), Array.from(l2.narrow(1, 0, 2).contiguous().toArray()));
  assert.notDeepEqual(Array.from(l1.narrow(1, 2, 1).contiguous().toArray()), Array.from(l2.narrow(1, 2, 1).contiguous().toArray()));
});

test('config and input errors name the bad value', () => {
  const m = new Transformer({ srcVocab: 7, tgtVocab: 7, dModel: 8, heads: 2, dFF: 16, encoderLayers: 1, decoderLayers: 1, maxLen: 4 });
  assert.throws(() => m.forward(tensor([[1, 2]]), tensor([[1]], { dtype: 'int32' })), /source ids must be int32, got float32/);
  assert.throws(() => m.forward(tensor([[1, 2, 3, 4, 5]], { dtype: 'int32' }), tensor([[1]], { dtype: 'int32' })), /positions \[0, 5\) exceed maxLen 4/);
});

after(() => reportWorst('model'));
