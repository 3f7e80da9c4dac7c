// The generate room's public face: decoding for any model with encode/decode/generator.

export { greedyDecode } from './seq2seq.js';
export type { Seq2SeqModel, GreedyOptions } from './seq2seq.js';
