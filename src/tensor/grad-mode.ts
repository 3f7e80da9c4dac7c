// Whether operations record the graph for backward: on, except inside noGrad().

let disabled = 0;

/** True unless inside noGrad(). */
export function isGradEnabled(): boolean {
  return disabled === 0;
}

/**
 * Runs `fn` without recording operations for autograd (evaluation, decoding, optimizer updates).
 *
 * @example
 * const logits = noGrad(() => model.forward(src, tgt));
 */
export function noGrad<T>(fn: () => T): T {
  disabled++;
  try {
    return fn();
  } finally {
    disabled--;
  }
}
