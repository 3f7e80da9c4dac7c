// Tricky strings and a seeded random-string generator shared by the tokenizer round-trip tests.

/** Strings that break careless tokenizers: empty, whitespace runs, emoji, scripts, controls. */
export const TRICKY: readonly string[] = [
  '',
  ' ',
  '   ',
  '\n',
  '\r\n\t',
  'hello world',
  '  leading and trailing  ',
  'multiple     spaces   between',
  'emoji 🙂👍🏽 family 👨‍👩‍👧 flag 🇩🇪',
  'Ünïcödé ñ 中文 日本語 한국어 Ελληνικά кириллица',
  'Arabic مرحبا and Hebrew שלום',
  'math ∑∫√∞ ≠ ≤',
  "it's don't we'll they're I'd I've I'm",
  'numbers 12345 3.14 1,000,000 ٣٤٥',
  '\u0000\u0001\u007f\u0080\u00ad',
  'zero\u200Bwidth and e\u0301 combining',
  '<s> literal </s> <pad><unk> specials',
  '\uFEFFbom at start',
  'tabs\t\tand\nnewlines\n\n\n',
  ' '.repeat(300),
  'a'.repeat(500),
  'ĠĊ Ġ are the byte-level space and newline',
  '💩'.repeat(40),
];

/** A small deterministic generator (mulberry32), so random tests repeat exactly. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RANGES: readonly [number, number][] = [
  [0x20, 0x7e], // ASCII
  [0x20, 0x20], // space, often
  [0x09, 0x0d], // tab, newline, carriage return...
  [0x00, 0x1f], // controls
  [0xa0, 0x24f], // Latin-1 and Latin Extended
  [0x370, 0x3ff], // Greek
  [0x400, 0x4ff], // Cyrillic
  [0x4e00, 0x4fff], // CJK
  [0x1f300, 0x1f64f], // emoji (astral: two UTF-16 units)
  [0xe000, 0xe0ff], // private use
];

/** `count` random well-formed strings of up to `maxLen` code points (no lone surrogates). */
export function randomStrings(seed: number, count: number, maxLen = 40): string[] {
  const rnd = mulberry32(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = Math.floor(rnd() * (maxLen + 1));
    let s = '';
    for (let j = 0; j < n; j++) {
      const [lo, hi] = RANGES[Math.floor(rnd() * RANGES.length)]!;
      s += String.fromCodePoint(lo + Math.floor(rnd() * (hi - lo + 1)));
    }
    out.push(s);
  }
  return out;
}

/** A little English for training: sentences adapted from "Attention Is All You Need". */
export const ENGLISH = `The Transformer is a model architecture that eschews recurrence and instead relies
entirely on an attention mechanism to draw global dependencies between input and output. It allows
for significantly more parallelization and can reach a new state of the art in translation quality
after being trained for as little as twelve hours. The encoder maps an input sequence of symbol
representations to a sequence of continuous representations. Given these, the decoder then generates
an output sequence of symbols one element at a time. At each step the model is auto-regressive,
consuming the previously generated symbols as additional input when generating the next.`;
