// Byte-pair merge learning over word frequencies, with incremental pair counts and a lazy max-heap.

/** What training learned: the vocabulary in id order and the merges in rank order. */
export interface LearnedMerges {
  tokens: string[];
  merges: [string, string][];
}

/** Pair keys pack two ids into one number; ids stay below 2^26 (67 million). */
const SHIFT = 2 ** 26;
const pairKey = (a: number, b: number) => a * SHIFT + b;

/**
 * Learns merges the way Hugging Face's BpeTrainer does: repeatedly merge the most frequent
 * adjacent pair, counted over the words weighted by their frequency, until the vocabulary has
 * `vocabSize` tokens or the best pair is seen fewer than `minFrequency` times. Ties go to the
 * pair with the smaller (left id, right id), so training is deterministic.
 *
 * Counts are updated incrementally: a merge touches only the words that hold the pair (found
 * through a pair → words index), and a lazy max-heap holds the candidates.
 *
 * @param words word (already in the byte-level alphabet) → frequency
 * @param baseTokens the starting vocabulary in id order: special tokens, then the alphabet
 */
export function learnMerges(
  words: ReadonlyMap<string, number>,
  baseTokens: readonly string[],
  vocabSize: number,
  minFrequency: number,
): LearnedMerges {
  const idOf = new Map<string, number>();
  baseTokens.forEach((t, i) => idOf.set(t, i));
  const symbolWords: SymbolWord[] = [];
  for (const [w, f] of words) symbolWords.push({ symbols: Array.from(w, (c) => idOf.get(c)!), count: f });
  return learnSymbolMerges(symbolWords, baseTokens, vocabSize, minFrequency);
}

/** A word as ids of the starting vocabulary, and how often it occurs. */
export interface SymbolWord {
  symbols: number[];
  count: number;
}

/**
 * {@link learnMerges} over words already cut into symbols (ids of `baseTokens`), with `join`
 * naming the token a merge makes: plain concatenation for BPE; WordPiece drops the `##` of the
 * right-hand piece (`un` + `##able` = `unable`), as Hugging Face's trainer does.
 */
export function learnSymbolMerges(
  words: readonly SymbolWord[],
  baseTokens: readonly string[],
  vocabSize: number,
  minFrequency: number,
  join: (a: string, b: string) => string = (a, b) => a + b,
): LearnedMerges {
  const tokens = baseTokens.slice();
  const idOf = new Map<string, number>();
  tokens.forEach((t, i) => idOf.set(t, i));
  const syms: number[][] = words.map((w) => w.symbols.slice());
  const freq: number[] = words.map((w) => w.count);

  const counts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  syms.forEach((s, w) => {
    for (let i = 0; i + 1 < s.length; i++) {
      const k = pairKey(s[i]!, s[i + 1]!);
      counts.set(k, (counts.get(k) ?? 0) + freq[w]!);
      let set = where.get(k);
      if (set === undefined) where.set(k, (set = new Set()));
      set.add(w);
    }
  });
  const heap = new PairHeap();
  for (const [k, c] of counts) heap.push(c, k);

  const merges: [string, string][] = [];
  while (tokens.length < vocabSize) {
    const top = popValid(heap, counts);
    if (top === null || top.count < minFrequency) break;
    const a = Math.floor(top.key / SHIFT);
    const b = top.key % SHIFT;
    const merged = join(tokens[a]!, tokens[b]!);
    let id = idOf.get(merged);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(merged);
      idOf.set(merged, id);
    }
    merges.push([tokens[a]!, tokens[b]!]);

    const delta = new Map<number, number>();
    const bump = (k: number, d: number) => delta.set(k, (delta.get(k) ?? 0) + d);
    for (const w of where.get(top.key) ?? []) {
      const s = syms[w]!;
      const next = mergePair(s, a, b, id);
      if (next === s) continue; // the word lost this pair to an earlier merge
      const f = freq[w]!;
      for (let i = 0; i + 1 < s.length; i++) bump(pairKey(s[i]!, s[i + 1]!), -f);
      for (let i = 0; i + 1 < next.length; i++) {
        const k = pairKey(next[i]!, next[i + 1]!);
        bump(k, f);
        let set = where.get(k);
        if (set === undefined) where.set(k, (set = new Set()));
        set.add(w);
      }
      syms[w] = next;
    }
    where.delete(top.key);
    for (const [k, d] of delta) {
      if (d === 0) continue;
      const c = (counts.get(k) ?? 0) + d;
      if (c > 0) counts.set(k, c);
      else counts.delete(k);
      if (d > 0) heap.push(c, k);
    }
  }
  return { tokens, merges };
}

/** Replaces every non-overlapping (a, b), left to right, by `id`; returns `s` itself if none. */
export function mergePair(s: readonly number[], a: number, b: number, id: number): number[] {
  let i = 0;
  while (i + 1 < s.length && !(s[i] === a && s[i + 1] === b)) i++;
  if (i + 1 >= s.length) return s as number[];
  const out = s.slice(0, i);
  while (i < s.length) {
    if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
      out.push(id);
      i += 2;
    } else {
      out.push(s[i]!);
      i += 1;
    }
  }
  return out;
}

/**
 * Pops the best entry whose count is still current. An entry goes stale when its pair's count
 * drops; it is then pushed back with the current count. (A rise always pushes a fresh entry.)
 */
function popValid(heap: PairHeap, counts: ReadonlyMap<number, number>): { count: number; key: number } | null {
  while (heap.size > 0) {
    const top = heap.pop();
    const cur = counts.get(top.key) ?? 0;
    if (cur === top.count) return top;
    if (cur > 0 && cur < top.count) heap.push(cur, top.key);
  }
  return null;
}

/** A binary max-heap on (count, then smaller key). */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  get size(): number {
    return this.counts.length;
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.better(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): { count: number; key: number } {
    const top = { count: this.counts[0]!, key: this.keys[0]! };
    const lastC = this.counts.pop()!;
    const lastK = this.keys.pop()!;
    if (this.counts.length > 0) {
      this.counts[0] = lastC;
      this.keys[0] = lastK;
      let i = 0;
      const n = this.counts.length;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < n && this.better(l, m)) m = l;
        if (r < n && this.better(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }

  private better(i: number, j: number): boolean {
    const ci = this.counts[i]!;
    const cj = this.counts[j]!;
    return ci > cj || (ci === cj && this.keys[i]! < this.keys[j]!);
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j]!, this.counts[i]!];
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
  }
}
