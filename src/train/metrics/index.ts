// The metrics room's public face: loss-derived metrics, edit distance and G2P error rates, BLEU, chrF.

export { perplexity, bitsPerCharacter, tokenAccuracy, tokenAccuracyFromLogits, sumNll } from './loss.js';
export type { TokenAccuracy, TokenAccuracyOptions, NllSum } from './loss.js';
export { editDistance, g2pErrorRates, wordErrorRate, phonemeErrorRate, withoutStress } from './edit-distance.js';
export type { G2PErrorRates } from './edit-distance.js';
export { tokenize13a, corpusBleu, computeBleu } from './bleu.js';
export type { BleuOptions, BleuScore, BleuStats, BleuSmoothMethod } from './bleu.js';
export { corpusChrf } from './chrf.js';
export type { ChrfOptions, ChrfScore } from './chrf.js';
export { classificationMetrics } from './classification.js';
export type { ClassificationMetrics } from './classification.js';
