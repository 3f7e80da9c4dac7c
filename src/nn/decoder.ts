// The decoder stack: N identical layers (`layers.0` ... `layers.N-1`) and an optional final `norm`.

import { ArgumentError } from '../core/errors.js';
import type { Tensor } from '../tensor/index.js';
import { DecoderLayerCallOptions, TransformerDecoderLayer } from './decoder-layer.js';
import type { TransformerEncoderOptions } from './encoder.js';
import type { KVCache } from './kv-cache.js';
import { LayerNorm } from './layer-norm.js';
import { Module, ModuleList } from './module.js';

export interface DecoderOutput {
  /** [B, T, D] */
  output: Tensor;
  /** One [B, H, T, T] per layer, when asked for. */
  selfAttentions?: Tensor[];
  /** One [B, H, T, S] per layer, when asked for. */
  crossAttentions?: Tensor[];
  /** The scores before each layer's softmaxes (Q·Kᵀ/√d_k, −Infinity where masked), with the weights. */
  selfAttentionScores?: Tensor[];
  crossAttentionScores?: Tensor[];
}

/** Options of {@link TransformerDecoder.forward}: a layer's, with one cache for the whole stack. */
export interface DecoderCallOptions extends Omit<DecoderLayerCallOptions, 'cache'> {
  /** One {@link KVCache} layer per decoder layer, for incremental decoding. */
  cache?: KVCache | null;
}

/**
 * N decoder layers in sequence (torch.nn.TransformerDecoder's names).
 *
 * @example
 * const dec = new TransformerDecoder(16, 4, 2, { dFF: 32, rng: new Rng(0) });
 * const { output } = dec.forward(tgt, memory, { tgtMask: causalMask(T), memoryKeyPaddingMask });
 */
export class TransformerDecoder extends Module {
  readonly layers: ModuleList<TransformerDecoderLayer>;
  readonly norm: LayerNorm | null;

  constructor(dModel: number, numHeads: number, numLayers: number, opts: TransformerEncoderOptions) {
    super();
    this.layers = this.addModule('layers', new ModuleList<TransformerDecoderLayer>());
    for (let i = 0; i < numLayers; i++) this.layers.append(new TransformerDecoderLayer(dModel, numHeads, opts));
    this.norm = opts.finalNorm ? this.addModule('norm', new LayerNorm(dModel, opts)) : null;
  }

  /** tgt [B, T, D], memory [B, S, D] → [B, T, D] */
  forward(tgt: Tensor, memory: Tensor, opts: DecoderCallOptions = {}): DecoderOutput {
    let x = tgt;
    const self: Tensor[] = [];
    const cross: Tensor[] = [];
    const selfScores: Tensor[] = [];
    const crossScores: Tensor[] = [];
    const { cache, ...layerOpts } = opts;
    if (cache && cache.layers.length !== this.layers.length) {
      throw new ArgumentError(`TransformerDecoder: cache has ${cache.layers.length} layers, the decoder ${this.layers.length}`);
    }
    let i = 0;
    for (const layer of this.layers) {
      const r = layer.forward(x, memory, { ...layerOpts, cache: cache?.layer(i++) });
      x = r.output;
      if (r.selfAttention) self.push(r.selfAttention);
      if (r.crossAttention) cross.push(r.crossAttention);
      if (r.selfAttentionScores) selfScores.push(r.selfAttentionScores);
      if (r.crossAttentionScores) crossScores.push(r.crossAttentionScores);
    }
    if (this.norm) x = this.norm.forward(x);
    return opts.needWeights ? { output: x, selfAttentions: self, crossAttentions: cross, selfAttentionScores: selfScores, crossAttentionScores: crossScores } : { output: x };
  }
}
