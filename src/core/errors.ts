// Error classes: every message names the bad value and what was expected.

/** Base class of every error qkv throws on purpose. */
export class QkvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A shape did not fit: wrong rank, sizes that do not broadcast, a reshape that changes the size. */
export class ShapeError extends QkvError {}

/** A dtype did not fit: mixing float32 with float64, float ids, and so on. */
export class DTypeError extends QkvError {}

/** An argument was out of range or of the wrong kind. */
export class ArgumentError extends QkvError {}

/** A file or byte buffer was malformed (safetensors, config.json, tokenizer.json...). */
export class FormatError extends QkvError {}

/** A state dict did not match a module: missing, unexpected, or wrongly shaped names. */
export class StateDictError extends QkvError {}

/** Autograd was asked for something it cannot do (backward of a non-scalar without a gradient...). */
export class GradError extends QkvError {}

/** Formats a shape the way error messages show it: [2, 3, 4]. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
