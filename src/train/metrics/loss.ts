// Loss-derived metrics: perplexity, bits per character, token accuracy (the only metrics that see tensors).

import { ArgumentError, ShapeError, fmtShape } from '../../core/errors.js';
import { noGrad } from '../../tensor/grad-mode.js';
import { crossEntropy } from '../../tensor/ops/functional.js';
import type { Tensor } from '../../tensor/tensor.js';

function checkCount(fn: string, what: string, n: number): void {
  if (!(Number.isInteger(n) && n > 0)) throw new ArgumentError(`${fn}: ${what} must be a positive integer, got ${n}`);
}

function checkNll(fn: string, totalNll: number): void {
  if (!(totalNll >= 0)) throw new ArgumentError(`${fn}: totalNll must be a number ≥ 0 (nats), got ${totalNll}`);
}

/**
 * Perplexity = exp(mean negative log-likelihood per token) = exp(totalNll / tokens), with the NLL in
 * nats (natural log, as `crossEntropy` returns it). Sum the NLL over a whole split, then divide once,
 * so that batches of different sizes weigh by their token counts.
 *
 * @throws ArgumentError when `tokens` is not a positive integer or `totalNll` is negative or NaN.
 * @example
 * ```ts
 * // A model that is uniform over 50 tokens has perplexity 50:
 * perplexity(10 * Math.log(50), 10); // 50
 * ```
 */
export function perplexity(totalNll: number, tokens: number): number {
  checkNll('perplexity', totalNll);
  checkCount('perplexity', 'tokens', tokens);
  return Math.exp(totalNll / tokens);
}

/**
 * Bits per character = totalNll / ln 2 / characters, where `totalNll` (nats) is summed over every
 * token of the text and `characters` counts the characters of that text. With a character-level
 * model tokens and characters coincide; with BPE the same formula makes models with different
 * tokenizers comparable.
 *
 * @throws ArgumentError when `characters` is not a positive integer or `totalNll` is negative or NaN.
 * @example
 * ```ts
 * // Uniform over 256 bytes costs 8 bits per byte:
 * bitsPerCharacter(100 * Math.log(256), 100); // 8
 * ```
 */
export function bitsPerCharacter(totalNll: number, characters: number): number {
  checkNll('bitsPerCharacter', totalNll);
  checkCount('bitsPerCharacter', 'characters', characters);
  return totalNll / Math.LN2 / characters;
}

/** The result of {@link tokenAccuracy}. */
export interface TokenAccuracy {
  /** Positions where the prediction equals the target (padding excluded). */
  correct: number;
  /** Positions scored (padding excluded). */
  total: number;
  /** `correct / total`, or 0 when nothing was scored. */
  accuracy: number;
}

/** Options of {@link tokenAccuracy} and {@link tokenAccuracyFromLogits}. */
export interface TokenAccuracyOptions {
  /** Target id that marks padding; those positions are not scored. Default -100, as in `crossEntropy`. */
  ignoreIndex?: number;
}

/**
 * Token accuracy: the fraction of positions, padding excluded, where the predicted id equals the
 * target id. Counts are returned too, so that batches can be summed before dividing.
 *
 * @throws ArgumentError when the two arrays have different lengths.
 * @example
 * ```ts
 * tokenAccuracy([5, 7, 2, 0], [5, 8, 2, 0], { ignoreIndex: 0 }); // { correct: 2, total: 3, accuracy: 2 / 3 }
 * ```
 */
export function tokenAccuracy(predictions: ArrayLike<number>, targets: ArrayLike<number>, opts: TokenAccuracyOptions = {}): TokenAccuracy {
  const { ignoreIndex = -100 } = opts;
  if (predictions.length !== targets.length) {
    throw new ArgumentError(`tokenAccuracy: ${predictions.length} predictions but ${targets.length} targets; expected equal counts`);
  }
  let correct = 0;
  let total = 0;
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] === ignoreIndex) continue;
    total++;
    if (predictions[i] === targets[i]) correct++;
  }
  return { correct, total, accuracy: total === 0 ? 0 : correct / total };
}

/**
 * Token accuracy of logits `[..., V]` against int32 targets of the leading shape: the prediction at
 * each position is the arg-max over the last axis (the first maximum on ties).
 *
 * @throws ShapeError when the targets' shape is not the logits' shape without its last axis.
 * @example
 * ```ts
 * const logits = tensor([[0.1, 2, 0.3], [1, 0, 0]]);           // [N=2, V=3]
 * const targets = tensor([1, 2], { dtype: 'int32' });
 * tokenAccuracyFromLogits(logits, targets).accuracy;           // 0.5
 * ```
 */
export function tokenAccuracyFromLogits(logits: Tensor, targets: Tensor, opts: TokenAccuracyOptions = {}): TokenAccuracy {
  const lead = logits.shape.slice(0, -1);
  if (logits.ndim < 1 || targets.ndim !== lead.length || targets.shape.some((d, i) => d !== lead[i])) {
    throw new ShapeError(`tokenAccuracyFromLogits: logits ${fmtShape(logits.shape)} need targets of shape ${fmtShape(lead)}, got ${fmtShape(targets.shape)}`);
  }
  const predicted = noGrad(() => logits.argmax(-1)).toArray();
  return tokenAccuracy(predicted, targets.toArray(), opts);
}

/** The result of {@link sumNll}. */
export interface NllSum {
  /** Summed negative log-likelihood in nats over the scored positions. */
  totalNll: number;
  /** Positions scored (targets equal to `ignoreIndex` excluded). */
  tokens: number;
}

/**
 * Summed negative log-likelihood of int32 targets under logits `[..., V]`, and the number of positions
 * it covers: the two numbers {@link perplexity} and {@link bitsPerCharacter} need. Runs without
 * recording gradients.
 *
 * @example
 * ```ts
 * const { totalNll, tokens } = sumNll(logits, targets, { ignoreIndex: padId });
 * const ppl = perplexity(totalNll, tokens);
 * ```
 */
export function sumNll(logits: Tensor, targets: Tensor, opts: TokenAccuracyOptions = {}): NllSum {
  const { ignoreIndex = -100 } = opts;
  const V = logits.shape[logits.ndim - 1];
  const lead = logits.shape.slice(0, -1);
  if (logits.ndim < 1 || targets.ndim !== lead.length || targets.shape.some((d, i) => d !== lead[i])) {
    throw new ShapeError(`sumNll: logits ${fmtShape(logits.shape)} need targets of shape ${fmtShape(lead)}, got ${fmtShape(targets.shape)}`);
  }
  const N = targets.size;
  const totalNll = noGrad(() => crossEntropy(logits.reshape([N, V]), targets.reshape([N]), { ignoreIndex, reduction: 'sum' }).item());
  let tokens = 0;
  for (const t of targets.toArray()) if (t !== ignoreIndex) tokens++;
  return { totalNll, tokens };
}
