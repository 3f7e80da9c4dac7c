// GPT-2's byte-level alphabet (bytes to printable characters and back) and its pre-tokenisation regex.

/**
 * GPT-2's pre-tokenisation pattern: contractions, letter runs, number runs and punctuation runs
 * (each with at most one leading space), and whitespace. Every character matches some branch,
 * so the pieces always join back into the input.
 */
export const GPT2_PATTERN_SOURCE =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

const GPT2_PATTERN = new RegExp(GPT2_PATTERN_SOURCE, 'gu');

/**
 * GPT-2's `bytes_to_unicode`: byte `b` to a printable character. Printable Latin-1 bytes
 * (`!`..`~`, `¡`..`¬`, `®`..`ÿ`) stand for themselves; the other 68 take U+0100 onwards in byte
 * order, so space (32) is `Ġ` and newline (10) is `Ċ`.
 *
 * @example
 * ```ts
 * const map = bytesToUnicode();
 * map[32];  // 'Ġ'
 * map[65];  // 'A'
 * ```
 */
export function bytesToUnicode(): string[] {
  const out = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    out[b] = String.fromCharCode(printable ? b : 256 + n++);
  }
  return out;
}

/** `BYTE_TO_CHAR[b]`: the character that stands for byte `b`. */
export const BYTE_TO_CHAR: readonly string[] = Object.freeze(bytesToUnicode());

/** The inverse of {@link BYTE_TO_CHAR}. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const utf8 = new TextEncoder();
// Invalid sequences become U+FFFD, as in Hugging Face; ignoreBOM keeps a leading U+FEFF in the text.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Text to its UTF-8 bytes written in the byte-level alphabet: `'a b'` → `'aĠb'`. */
export function toByteChars(text: string): string {
  let s = '';
  for (const b of utf8.encode(text)) s += BYTE_TO_CHAR[b];
  return s;
}

/**
 * Token strings back to text. A token all of whose characters are in the byte-level alphabet is
 * read as bytes; any other token (an added token such as `<|im_start|>` written outside the
 * alphabet) as its own UTF-8, the rule Hugging Face's ByteLevel decoder follows.
 */
export function fromByteChars(tokens: readonly string[]): string {
  const bytes: number[] = [];
  for (const t of tokens) {
    const start = bytes.length;
    let ok = true;
    for (let i = 0; i < t.length; i++) {
      const b = CHAR_TO_BYTE.get(t[i]!);
      if (b === undefined) {
        ok = false;
        break;
      }
      bytes.push(b);
    }
    if (!ok) {
      bytes.length = start;
      for (const b of utf8.encode(t)) bytes.push(b);
    }
  }
  return utf8Decoder.decode(new Uint8Array(bytes));
}

/**
 * Splits text into pieces with a global regex, keeping the text between matches as pieces of its
 * own (Hugging Face's Split with behaviour "Isolated"), so the pieces always join to the input.
 */
export function splitIsolated(text: string, pattern: RegExp): string[] {
  const out: string[] = [];
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m[0].length === 0) continue;
    if (m.index! > last) out.push(text.slice(last, m.index));
    out.push(m[0]);
    last = m.index! + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/**
 * GPT-2 pre-tokenisation.
 *
 * @example
 * ```ts
 * gpt2PreTokenize("Hello world's  end"); // ['Hello', ' world', "'s", ' ', ' end']
 * ```
 */
export function gpt2PreTokenize(text: string): string[] {
  return splitIsolated(text, GPT2_PATTERN);
}
