// Building an attention view: one answer's every layer and head (weights and scores), its beams and next-token
// distributions (the data and its JSON: view-json.ts).

import { causalAttentions, seq2seqAttentions } from './attentions.js';
import { generateText } from './causal.js';
import type { TextGenerationOptions } from './causal.js';
import { PipelineError, checkpointDefaults } from './pipeline.js';
import type { Pretrained } from './pretrained.js';
import { G2P_RULES, TEXT2TEXT_RULES, TRANSLATE_RULES, answerIds, encodeSources, maxLenRule } from './seq2seq.js';
import type { Seq2SeqGenerationOptions, Seq2SeqRules } from './seq2seq.js';
import { causalNextTokens, seq2seqNextTokens, traceBeamSearch } from './trace.js';
import { VIEW_FORMAT } from './view-json.js';
import type { AttentionView } from './view-json.js';

/** Options of {@link attentionView}: decoding options with Hugging Face's names (docs/options.md). */
export type AttentionViewOptions = Seq2SeqGenerationOptions & Omit<TextGenerationOptions, 'onWarning'> & {
  /** Tokens listed per next-token distribution (default 8). */
  shownTokens?: number;
};

const definedOnly = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

function seq2seqRules(task: string | null): Seq2SeqRules {
  if (task === 'g2p') return G2P_RULES;
  if (task === 'translate') return TRANSLATE_RULES;
  return TEXT2TEXT_RULES;
}

/**
 * Answers `input` with a checkpoint and gathers what a viewer shows: every layer's and head's
 * attention (with the scores before the softmax), the beams step by step (numBeams > 1) and the
 * next-token distributions. The answer is what the checkpoint's pipeline gives with the same options.
 *
 * @example
 * const view = await attentionView(await loadPretrained(files), 'HELLO', { numBeams: 4 });
 * view.output;                      // 'HH AH0 L OW1'
 * view.groups.map((g) => g.kind);   // ['encoder', 'decoder', 'cross']
 */
export async function attentionView(p: Pretrained, input: string, opts: AttentionViewOptions = {}): Promise<AttentionView> {
  if (typeof input !== 'string') throw new PipelineError(`attentionView: input is ${typeof input}, expected a string`);
  const shown = opts.shownTokens ?? 8;
  const { shownTokens: _shown, ...decoding } = opts;
  if (p.kind === 'transformer') {
    const c = p.model.config;
    const rules = seq2seqRules(p.task);
    const o: Seq2SeqGenerationOptions = { ...checkpointDefaults(p), ...definedOnly({ numBeams: decoding.numBeams, lengthPenalty: decoding.lengthPenalty, maxNewTokens: decoding.maxNewTokens }) };
    const [source] = encodeSources(p, [input], rules);
    const [ids] = answerIds(p, [input], rules, o);
    const limit = maxLenRule(p.model, rules, o)(Math.max(source.length, 1)); // an empty source is fed as [</s>]
    const ended = ids.length < limit;
    const a = seq2seqAttentions(p, source, ids, ended);
    const numBeams = o.numBeams ?? 1;
    return {
      format: VIEW_FORMAT, source: p.source, task: p.task, modelKind: 'transformer',
      model: { heads: c.heads, dModel: c.dModel, dK: c.dModel / c.heads, encoderLayers: c.encoderLayers, decoderLayers: c.decoderLayers, layers: c.encoderLayers + c.decoderLayers },
      input, output: p.targetTokenizer.decode(ids, { skipSpecial: true }), options: { ...o, numBeams },
      groups: [
        { kind: 'encoder', title: 'Encoder self-attention', queries: a.sourceTokens, keys: a.sourceTokens, layers: a.encoderSelfAttentions },
        { kind: 'decoder', title: 'Decoder self-attention', queries: a.targetTokens, keys: a.targetTokens, layers: a.decoderSelfAttentions },
        { kind: 'cross', title: 'Cross-attention (decoder → encoder)', queries: a.targetTokens, keys: a.sourceTokens, layers: a.crossAttentions },
      ],
      beams: numBeams > 1 ? traceBeamSearch(p, input, rules, o) : null,
      nextTokens: seq2seqNextTokens(p, source, ids, ended, { topK: shown }),
    };
  }
  if (p.kind === 'gpt') {
    const c = p.model.config;
    const o = definedOnly(decoding) as TextGenerationOptions;
    const answer = generateText(p, input, o);
    const a = causalAttentions(p, answer.ids);
    const sampling = (o.doSample ?? false) && (o.temperature ?? 1) > 0;
    return {
      format: VIEW_FORMAT, source: p.source, task: p.task, modelKind: 'gpt',
      model: { heads: c.heads, dModel: c.dModel, dK: c.dModel / c.heads, encoderLayers: 0, decoderLayers: c.layers, layers: c.layers },
      input, output: answer.text, options: { ...o },
      groups: [{ kind: 'self', title: 'Self-attention (causal)', queries: a.tokens, keys: a.tokens, layers: a.selfAttentions }],
      beams: null,
      nextTokens: causalNextTokens(p, answer.ids, answer.promptLength, { topK: shown, temperature: sampling ? o.temperature : 1 }),
    };
  }
  throw new PipelineError(`attentionView: ${p.source} holds a '${p.kind}' model, expected an encoder-decoder ('transformer') or a decoder-only ('gpt') checkpoint`);
}

