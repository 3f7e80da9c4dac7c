// Pre-tokenisation patterns compiled so that no pattern (one from a tokenizer.json, say) can take more than linear time.

import { RE2JS } from 're2js';
import { ArgumentError } from '../core/errors.js';
import { GPT2_PATTERN_SOURCE, splitIsolated } from './byte-level.js';

/** Cuts a text into pieces that join back to it (Hugging Face's Split, behaviour "Isolated"). */
export type SplitText = (text: string) => string[];

/**
 * Patterns qkv itself writes, run on JavaScript's RegExp: GPT-2's (whose `(?!\S)` RE2 lacks; its
 * branches are single runs, so it cannot backtrack badly) and the character tokenizer's.
 */
const TRUSTED = new Set([GPT2_PATTERN_SOURCE, '[\\s\\S]']);

/**
 * A splitter for `pattern`. Any pattern but GPT-2's own runs on RE2JS, a linear-time regex
 * engine (RE2's syntax: no lookaround, no backreferences), so that a pattern such as `(a+)+$`
 * from a file cannot backtrack for minutes. A pattern RE2 cannot compile is an ArgumentError
 * saying why.
 *
 * @example
 * const split = compileSplitPattern(' ?\\p{L}+|\\s+');
 * split('hello world'); // ['hello', ' world']
 */
export function compileSplitPattern(pattern: string): SplitText {
  if (TRUSTED.has(pattern)) {
    const re = new RegExp(pattern, 'gu');
    return (text) => splitIsolated(text, re);
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    throw new ArgumentError(
      `pattern ${JSON.stringify(pattern.length > 80 ? pattern.slice(0, 80) + '…' : pattern)}: expected a regex in RE2 syntax ` +
        `(patterns run on a linear-time engine, so lookaround and backreferences are not supported; GPT-2's own pattern is): ${(e as Error).message}`,
    );
  }
  return (text) => {
    const out: string[] = [];
    const m = re.matcher(text);
    let last = 0;
    while (m.find()) {
      const start = m.start();
      const end = m.end();
      if (end === start) continue;
      if (start > last) out.push(text.slice(last, start));
      out.push(text.slice(start, end));
      last = end;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  };
}
