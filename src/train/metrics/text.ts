// String helpers shared by BLEU and chrF: Python's whitespace, split and rstrip, so results match sacreBLEU.

/**
 * The characters Python's `str.split()` and `str.strip()` treat as whitespace (`str.isspace()`):
 * JavaScript's `\s` lacks the information separators U+001C–U+001F and U+0085 and adds U+FEFF.
 */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const SPLIT = new RegExp(`[${PY_SPACE}]+`, 'u');
const TRAILING = new RegExp(`[${PY_SPACE}]+$`, 'u');
const ALL = new RegExp(`[${PY_SPACE}]+`, 'gu');

/** Python's `s.split()`: split on runs of whitespace, dropping empty pieces. */
export function pySplit(s: string): string[] {
  return s.split(SPLIT).filter((w) => w.length > 0);
}

/** Python's `s.rstrip()`. */
export function pyRstrip(s: string): string {
  return s.replace(TRAILING, '');
}

/** Python's `''.join(s.split())`: the string with every whitespace character removed. */
export function removeWhitespace(s: string): string {
  return s.replace(ALL, '');
}

/** Counts of `keys`: a multiset as a Map. */
export function countOf(keys: Iterable<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}
