// What a recipe takes from a checkpoint: its tokenizers (checked against new data, or grown) and its model's shape.

import { QkvError } from '../../core/errors.js';
import { GPT } from '../../models/gpt.js';
import type { GPTConfig } from '../../models/gpt.js';
import { LSTMSeq2Seq } from '../../models/lstm-seq2seq.js';
import type { LSTMSeq2SeqConfig } from '../../models/lstm-seq2seq.js';
import { Transformer } from '../../models/transformer.js';
import type { TransformerConfig } from '../../models/transformer.js';
import type { EncoderDecoder } from '../../inference/model.js';
import type { TokenizerBuilder } from '../../tokenizers/builder.js';
import { tokenizerKindOf } from '../../tokenizers/builder.js';
import { isExtensible } from '../../tokenizers/tokenizer.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import type { ModelKind, ReuseTokenizers } from './run.js';
import type { Seq2SeqModelConfig } from './g2p.js';

/**
 * A checkpoint to fine-tune from does not fit the new run: another model kind, a vocabulary that
 * cannot encode the new data, shapes that differ. The message names both sides.
 */
export class FineTuneError extends QkvError {}

/** Most unknown symbols an error lists. */
const LISTED = 12;

/**
 * The tokenizer a recipe uses for one side of its data when it reuses `tok` from a checkpoint:
 * `add` each training text of that side, then `finish`. With `reuse.newSymbols` 'error', symbols
 * of the texts that `tok` has no token for are a FineTuneError naming the checkpoint, the side,
 * the data and the symbols; with 'extend' they are appended to a copy of `tok` (sorted); without
 * it `tok` is used as it is.
 *
 * @example
 * const src = reusedTokenizer(ck.tokenizer, 'source', reuse, 'pairs.tsv');
 * for (const p of pairs) src.add(p.source);
 * const tokenizer = src.finish();
 */
export function reusedTokenizer(tok: Tokenizer, side: string, reuse: ReuseTokenizers, data: string): TokenizerBuilder {
  if (!reuse.newSymbols || !isExtensible(tok)) return { add: () => undefined, finish: () => tok };
  const unknown = new Set<string>();
  return {
    add: (text) => tok.collectUnknown(text, unknown),
    finish: () => {
      if (unknown.size === 0) return tok;
      const added = [...unknown].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (reuse.newSymbols === 'extend') return tok.withTokens(added);
      const what = (tokenizerKindOf(tok) === 'symbol' ? 'symbol' : 'character') + (added.length === 1 ? '' : 's');
      const shown = added.slice(0, LISTED).map((s) => JSON.stringify(s)).join(', ') + (added.length > LISTED ? ', …' : '');
      throw new FineTuneError(
        `${reuse.source ?? 'the checkpoint'}: its ${side} tokenizer (${tok.constructor.name}, ${tok.vocabSize} tokens) has no token for ` +
        `${added.length} ${what} of ${data}: ${shown}; resize the vocabulary to add them (qkv train --resize-vocab), or fine-tune on data it covers`,
      );
    },
  };
}

/**
 * The run's encoder-decoder: `fresh` as the recipe sizes it, or, when reusing a checkpoint's
 * model config, that config with the vocabulary sizes and seed of `fresh`.
 *
 * @example
 * const model = transformerFor(reuse, { srcVocab: 40, tgtVocab: 80, ...c.model, maxLen: 256, seed: c.seed });
 */
export function transformerFor(reuse: ReuseTokenizers | undefined, fresh: TransformerConfig): Transformer {
  if (!reuse?.modelConfig) return new Transformer(fresh);
  return new Transformer({ ...(reuse.modelConfig as unknown as TransformerConfig), srcVocab: fresh.srcVocab, tgtVocab: fresh.tgtVocab, seed: fresh.seed });
}

/**
 * The run's encoder-decoder of the config's `model.architecture`: the Transformer (the default; `fresh` as
 * {@link transformerFor} takes it) or the attentional LSTM, 'lstm' or 'bilstm' with a bidirectional encoder (hidden
 * size model.dModel, the layer counts and dropout of `model`; heads and dFF are not used). Reusing a checkpoint's model config keeps its shape, as transformerFor does.
 *
 * @example
 * const { model, modelKind } = encoderDecoderFor(undefined, { ...c.model, architecture: 'lstm' }, { srcVocab: 30, tgtVocab: 80, maxLen: 256, seed: 1 });
 * modelKind; // 'lstm-seq2seq'
 */
export function encoderDecoderFor(reuse: ReuseTokenizers | undefined, model: Seq2SeqModelConfig, fresh: TransformerConfig): { model: EncoderDecoder; modelKind: ModelKind } {
  const { architecture = 'transformer', ...fields } = model;
  if (architecture === 'lstm' || architecture === 'bilstm') {
    const base: Partial<LSTMSeq2SeqConfig> = reuse?.modelConfig
      ? (reuse.modelConfig as unknown as LSTMSeq2SeqConfig)
      : { hidden: fields.dModel, encoderLayers: fields.encoderLayers, decoderLayers: fields.decoderLayers, dropout: fields.dropout, bidirectional: architecture === 'bilstm', maxLen: fresh.maxLen };
    return { model: new LSTMSeq2Seq({ ...base, srcVocab: fresh.srcVocab, tgtVocab: fresh.tgtVocab, seed: fresh.seed }), modelKind: 'lstm-seq2seq' };
  }
  return { model: transformerFor(reuse, { ...fields, ...fresh }), modelKind: 'transformer' };
}

/**
 * The run's language model: `fresh`, or the reused checkpoint's model config with the vocabulary
 * size and seed of `fresh`.
 *
 * @example
 * const model = gptFor(reuse, { vocab: tok.vocabSize, ...c.model, seed: c.seed });
 */
export function gptFor(reuse: ReuseTokenizers | undefined, fresh: GPTConfig): GPT {
  if (!reuse?.modelConfig) return new GPT(fresh);
  return new GPT({ ...(reuse.modelConfig as unknown as GPTConfig), vocab: fresh.vocab, seed: fresh.seed });
}
