// How the CLI prints metrics and counts: error rates as percentages, scores and losses with 4 digits.

/** The metrics that are error rates (fractions printed as percentages); named one by one, as 'perplexity' also starts with 'per'. */
const ERROR_RATES: ReadonlySet<string> = new Set(['wer', 'per', 'cer', 'werNoStress', 'perNoStress', 'cerNoStress']);

/**
 * 0.4521 → '45.21%' for error rates; BLEU/chrF with two decimals; counts as integers; the rest with 4 significant digits.
 *
 * @example
 * formatMetric('wer', 0.4521); // '45.21%'
 * formatMetric('perplexity', 63.5071); // '63.51'
 */
export function formatMetric(key: string, v: number): string {
  if (ERROR_RATES.has(key)) return `${(100 * v).toFixed(2)}%`;
  if (key === 'bleu' || key === 'chrf') return v.toFixed(2);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return v.toPrecision(4);
}

/** `validLoss 1.234  wer 45.21%  per 12.00%` */
export function formatMetrics(m: Record<string, number>): string {
  return Object.entries(m).map(([k, v]) => `${k} ${formatMetric(k, v)}`).join('  ');
}

/** 1234567 → '1,234,567'. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
