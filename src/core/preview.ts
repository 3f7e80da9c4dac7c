// A short JSON rendering of any value for error messages, safe on values nested too deep for JSON.stringify.

/**
 * The value as JSON.stringify writes it, cut to about `max` characters; walks at most a few
 * levels and items deep, so a value nested 100,000 levels (from a hostile file) cannot overflow
 * the stack while its error message is written. `undefined` is 'missing'.
 *
 * @example
 * jsonPreview({ type: 'Metaspace' }); // '{"type":"Metaspace"}'
 * jsonPreview([[[[[[[[1]]]]]]]]);      // '[[[[[[…]]]]]]'
 */
export function jsonPreview(v: unknown, max = 80): string {
  if (v === undefined) return 'missing';
  const s = render(v, 6, max + 1);
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

function render(v: unknown, depth: number, budget: number): string {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'string') return JSON.stringify(v.length > budget ? v.slice(0, budget) : v);
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
    if (typeof v === 'boolean') return String(v);
    return v === null ? 'null' : String(v);
  }
  if (depth === 0) return Array.isArray(v) ? '[…]' : '{…}';
  const parts: string[] = [];
  let used = 2;
  const entries: [string | null, unknown][] = Array.isArray(v) ? v.map((x) => [null, x]) : Object.entries(v as object);
  for (const [k, x] of entries) {
    if (used > budget) { parts.push('…'); break; }
    const item = (k === null ? '' : `${JSON.stringify(k)}:`) + render(x === undefined && k === null ? null : x, depth - 1, budget - used);
    if (x === undefined && k !== null) continue;
    parts.push(item);
    used += item.length + 1;
  }
  return Array.isArray(v) ? `[${parts.join(',')}]` : `{${parts.join(',')}}`;
}
