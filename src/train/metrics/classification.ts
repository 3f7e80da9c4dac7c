// Classification metrics: accuracy, and precision, recall and F1 of one positive label.

import { ArgumentError } from '../../core/errors.js';

/** The result of {@link classificationMetrics}. */
export interface ClassificationMetrics {
  /** Share of examples whose predicted label is the true one. */
  accuracy: number;
  /** Of the examples predicted positive, the share that are (0 when none is predicted positive). */
  precision: number;
  /** Of the positive examples, the share predicted positive (0 when there are none). */
  recall: number;
  /** Harmonic mean of precision and recall (0 when both are 0). */
  f1: number;
  /** Examples scored. */
  examples: number;
}

/**
 * Accuracy over all labels, and precision, recall and F1 of the label `positive` (as
 * scikit-learn's `precision_recall_fscore_support(..., pos_label=positive, average='binary')`,
 * whose zero-division answer is 0). Labels are ids; `predicted[i]` is the prediction for the
 * example whose true label is `actual[i]`.
 *
 * @example
 * classificationMetrics([1, 1, 0, 0], [1, 0, 0, 1], 1);
 * // { accuracy: 0.5, precision: 0.5, recall: 0.5, f1: 0.5, examples: 4 }
 */
export function classificationMetrics(predicted: ArrayLike<number>, actual: ArrayLike<number>, positive: number): ClassificationMetrics {
  if (predicted.length !== actual.length) {
    throw new ArgumentError(`classificationMetrics: ${predicted.length} predictions but ${actual.length} labels; expected equal counts`);
  }
  let correct = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < actual.length; i++) {
    const p = predicted[i];
    const a = actual[i];
    if (p === a) correct++;
    if (p === positive && a === positive) tp++;
    else if (p === positive) fp++;
    else if (a === positive) fn++;
  }
  const n = actual.length;
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { accuracy: n === 0 ? 0 : correct / n, precision, recall, f1, examples: n };
}
