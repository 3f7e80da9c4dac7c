// The attentional LSTM encoder-decoder: it learns to reverse short sequences, decodes alike with and without a
// cache, ignores source padding, and its attention and bridge get the gradients finite differences give.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { refBackend } from '../../src/backend/ref.js';
import { ArgumentError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { beamSearch, greedyDecode } from '../../src/generate/index.js';
import { LSTMSeq2Seq } from '../../src/models/lstm-seq2seq.js';
import type { LSTMSeq2SeqConfig } from '../../src/models/lstm-seq2seq.js';
import { Adam, clipGradNorm } from '../../src/optim/index.js';
import { Tensor, crossEntropy, noGrad, tensor } from '../../src/tensor/index.js';
import type { Backend } from '../../src/backend/backend.js';
import { testBackends } from '../helpers/backends.js';

const PAD = 0;
const BOS = 1;
const EOS = 2;
const V = 9; // 3..8 are the symbols

/** Training runs on native when it loads (a second or so), else on ref. */
const fast: Backend = testBackends().at(-1)!;

/** Right-padded ids [B, width] and the padding mask (1 at padding). */
function padded(rows: number[][], width = Math.max(...rows.map((r) => r.length)), backend = fast): { ids: Tensor; mask: Tensor } {
  const ids = rows.flatMap((r) => [...r, ...new Array<number>(width - r.length).fill(PAD)]);
  return {
    ids: tensor(ids, { shape: [rows.length, width], dtype: 'int32', backend }),
    mask: tensor(ids.map((v) => (v === PAD ? 1 : 0)), { shape: [rows.length, width], dtype: 'int32', backend }),
  };
}

/** Sixteen distinct sources of 2 to 5 symbols, and their reversals. */
function reverseTask(): { src: number[][]; tgt: number[][] } {
  const rng = new Rng(5);
  const src: number[][] = [];
  const seen = new Set<string>();
  while (src.length < 16) {
    const r = Array.from({ length: 2 + rng.int(4) }, () => 3 + rng.int(V - 3));
    if (!seen.has(r.join())) seen.add(r.join()), src.push(r);
  }
  return { src, tgt: src.map((r) => [...r].reverse()) };
}

function tiny(extra: Partial<LSTMSeq2SeqConfig> = {}): LSTMSeq2Seq {
  return new LSTMSeq2Seq({ srcVocab: V, tgtVocab: V, hidden: 32, encoderLayers: 1, decoderLayers: 1, dropout: 0, seed: 3, backend: fast, ...extra });
}

describe('LSTMSeq2Seq', () => {
  test('state dict: torch.nn.LSTM names for both LSTMs, and the attention weights', () => {
    const m = tiny({ encoderLayers: 2, decoderLayers: 2 });
    const names = [...m.stateDict().keys()];
    for (const n of ['encoder.weight_ih_l1', 'decoder.bias_hh_l1', 'attn_weight', 'attn_out.weight', 'bridge.weight', 'generator.bias']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    assert.deepEqual([...m.stateDict().get('decoder.weight_ih_l0')!.shape], [128, 64], 'input feeding: layer 0 reads [embedding; h̃]');
    assert.ok(!names.includes('attn_weight') || tiny({ attention: 'dot' }).stateDict().has('attn_weight') === false);
    assert.throws(() => tiny({ bidirectional: true, hidden: 7 }), (e: Error) => e instanceof ArgumentError && /hidden 7 must be even with bidirectional/.test(e.message));
    assert.throws(() => tiny({ attention: 'concat' as 'dot' }), (e: Error) => e instanceof ArgumentError && /attention is "concat", expected "general" or "dot"/.test(e.message));
  });

  for (const bidirectional of [false, true]) test(`extra source padding changes nothing${bidirectional ? ' (bidirectional encoder)' : ''}`, () => {
    const m = tiny({ bidirectional }).eval();
    const a = padded([[3, 4, 5], [6, 7]]);
    const b = padded([[3, 4, 5], [6, 7]], 6);
    const tgt = padded([[BOS, 5, 4], [BOS, 7, 6]]).ids;
    const la = noGrad(() => m.forward(a.ids, tgt, { srcPaddingMask: a.mask }).logits.toArray());
    const lb = noGrad(() => m.forward(b.ids, tgt, { srcPaddingMask: b.mask }).logits.toArray());
    la.forEach((v, i) => assert.ok(Math.abs(v - lb[i]) < 1e-5, `logit ${i}: ${v} vs ${lb[i]}`));
  });

  for (const inputFeeding of [true, false]) {
    test(`learns to reverse 16 sequences, greedy decoding gives every reversal (inputFeeding ${inputFeeding})`, (t) => {
      const { src, tgt } = reverseTask();
      const m = tiny({ inputFeeding });
      const s = padded(src);
      const tIn = padded(tgt.map((r) => [BOS, ...r])).ids;
      const tOut = padded(tgt.map((r) => [...r, EOS])).ids;
      const optim = new Adam(m.parameters(), { lr: 0.02 });
      let loss = Infinity;
      let step = 0;
      for (; step < 300 && loss > 0.01; step++) {
        m.train();
        const { logits } = m.forward(s.ids, tIn, { srcPaddingMask: s.mask });
        const l = crossEntropy(logits.reshape([-1, V]), tOut.reshape([-1]), { ignoreIndex: PAD });
        optim.zeroGrad();
        l.backward();
        clipGradNorm(m.parameters(), 1);
        optim.step();
        loss = l.item();
      }
      assert.ok(loss < 0.05, `training loss ${loss}`);
      t.diagnostic(`${step} steps on ${fast.name}, loss ${loss.toFixed(4)}`);
      const out = greedyDecode(m, s.ids, { bos: BOS, eos: EOS, maxLen: 8, srcPaddingMask: s.mask });
      assert.deepEqual(out, tgt);
      // The same tokens without the cache (each step reruns the whole prefix), and from a beam of 3.
      assert.deepEqual(greedyDecode(m, s.ids, { bos: BOS, eos: EOS, maxLen: 8, srcPaddingMask: s.mask, useCache: false }), tgt);
      const beams = beamSearch(m, s.ids, { bos: BOS, eos: EOS, maxLen: 8, beamSize: 3, lengthPenalty: 0, srcPaddingMask: s.mask });
      assert.deepEqual(beams.map((h) => h[0].tokens), tgt);
    });
  }

  test('attention weights: one head [B, 1, T, S], zero on source padding, each row summing to 1', () => {
    const m = tiny().eval();
    const s = padded([[3, 4, 5], [6]]);
    const r = noGrad(() => m.forward(s.ids, padded([[BOS, 5], [BOS, 6]]).ids, { srcPaddingMask: s.mask, needWeights: true }));
    const w = r.crossAttentions![0];
    assert.deepEqual([...w.shape], [2, 1, 2, 3]);
    const a = w.toArray();
    assert.equal(a[6 + 1], 0);
    assert.equal(a[6 + 2], 0);
    for (let row = 0; row < 4; row++) assert.ok(Math.abs(a[3 * row] + a[3 * row + 1] + a[3 * row + 2] - 1) < 1e-6);
  });

  for (const bidirectional of [false, true]) test(`gradients of the attention, bridge and output weights match finite differences (float64, ref${bidirectional ? ', bidirectional encoder' : ''})`, () => {
    const m = new LSTMSeq2Seq({ srcVocab: 6, tgtVocab: 6, hidden: bidirectional ? 4 : 3, encoderLayers: 1, decoderLayers: 2, dropout: 0, bidirectional, seed: 9, dtype: 'float64', backend: refBackend });
    const src = tensor([[3, 4, 5], [4, 3, 0]], { dtype: 'int32', backend: refBackend });
    const mask = tensor([[0, 0, 0], [0, 0, 1]], { dtype: 'int32', backend: refBackend });
    const tIn = tensor([[1, 5], [1, 3]], { dtype: 'int32', backend: refBackend });
    const tOut = tensor([[5, 2], [3, 2]], { dtype: 'int32', backend: refBackend });
    const loss = () => crossEntropy(m.forward(src, tIn, { srcPaddingMask: mask }).logits.reshape([-1, 6]), tOut.reshape([-1]));
    m.zeroGrad();
    loss().backward();
    const params = new Map(m.namedParameters());
    for (const name of ['attn_weight', 'attn_out.weight', 'bridge.weight', 'bridge.bias', 'decoder.weight_ih_l0', 'encoder.weight_hh_l0', 'src_embed.weight', ...(bidirectional ? ['encoder.weight_ih_l0_reverse'] : [])]) {
      const p = params.get(name)!;
      const base = p.toArray() as Float64Array;
      const g = p.grad!.toArray();
      for (let j = 0; j < base.length; j += Math.max(1, Math.floor(base.length / 6))) {
        const at = (d: number) => {
          const v = base.slice();
          v[j] += d;
          p.assign(tensor(v, { shape: p.shape, backend: refBackend }));
          return noGrad(() => loss().item());
        };
        const numeric = (at(1e-6) - at(-1e-6)) / 2e-6;
        p.assign(tensor(base, { shape: p.shape, backend: refBackend }));
        assert.ok(Math.abs(g[j] - numeric) <= 1e-6 + 1e-5 * Math.abs(numeric), `${name}[${j}]: autograd ${g[j]}, finite differences ${numeric}`);
      }
    }
  });
});
