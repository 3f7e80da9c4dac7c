// The encoder stack: N identical layers (`layers.0` ... `layers.N-1`) and an optional final `norm`.

import type { Tensor } from '../tensor/index.js';
import { EncoderLayerCallOptions, TransformerEncoderLayer, TransformerLayerOptions } from './encoder-layer.js';
import { LayerNorm } from './layer-norm.js';
import { Module, ModuleList } from './module.js';

export interface TransformerEncoderOptions extends TransformerLayerOptions {
  /** A LayerNorm after the last layer (`norm`); needed with pre-norm, torch always has one. */
  finalNorm?: boolean;
}

export interface EncoderOutput {
  /** [B, S, D] */
  output: Tensor;
  /** One [B, H, S, S] per layer, when asked for. */
  selfAttentions?: Tensor[];
  /** The scores before each layer's softmax (Q·Kᵀ/√d_k, −Infinity where masked), with selfAttentions. */
  selfAttentionScores?: Tensor[];
}

/**
 * N encoder layers in sequence (torch.nn.TransformerEncoder's names).
 *
 * @example
 * const enc = new TransformerEncoder(16, 4, 2, { dFF: 32, rng: new Rng(0) });
 * const { output, selfAttentions } = enc.forward(x, { needWeights: true }); // 2 maps [B, 4, S, S]
 */
export class TransformerEncoder extends Module {
  readonly layers: ModuleList<TransformerEncoderLayer>;
  readonly norm: LayerNorm | null;

  constructor(dModel: number, numHeads: number, numLayers: number, opts: TransformerEncoderOptions) {
    super();
    this.layers = this.addModule('layers', new ModuleList<TransformerEncoderLayer>());
    for (let i = 0; i < numLayers; i++) this.layers.append(new TransformerEncoderLayer(dModel, numHeads, opts));
    this.norm = opts.finalNorm ? this.addModule('norm', new LayerNorm(dModel, opts)) : null;
  }

  /** src [B, S, D] → [B, S, D] */
  forward(src: Tensor, opts: EncoderLayerCallOptions = {}): EncoderOutput {
    let x = src;
    const maps: Tensor[] = [];
    const scores: Tensor[] = [];
    for (const layer of this.layers) {
      const r = layer.forward(x, opts);
      x = r.output;
      if (r.selfAttention) maps.push(r.selfAttention);
      if (r.selfAttentionScores) scores.push(r.selfAttentionScores);
    }
    if (this.norm) x = this.norm.forward(x);
    return opts.needWeights ? { output: x, selfAttentions: maps, selfAttentionScores: scores } : { output: x };
  }
}

