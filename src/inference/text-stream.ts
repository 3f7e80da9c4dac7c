// Text pieces from token ids as they arrive: whole characters only, so a UTF-8 character split across tokens waits.

import type { Tokenizer } from '../tokenizers/tokenizer.js';

/**
 * Turns a stream of token ids into a stream of text pieces whose concatenation is the decoded
 * text of all the ids (specials skipped). A piece is released only when the text decoded so far
 * does not end in U+FFFD, the mark of a byte-level token that ends inside a character.
 *
 * @example
 * const s = new TextStream(tok);
 * for (const id of ids) { const piece = s.push(id); if (piece) show(piece); }
 * show(s.flush());
 */
export class TextStream {
  private readonly ids: number[] = [];
  private shown = '';

  constructor(private readonly tokenizer: Tokenizer) {}

  /** Adds one id; returns the new text it completes ('' while a character is still split). */
  push(id: number): string {
    this.ids.push(id);
    const text = this.tokenizer.decode(this.ids, { skipSpecial: true });
    if (text.endsWith('\uFFFD') || !text.startsWith(this.shown)) return '';
    const piece = text.slice(this.shown.length);
    this.shown = text;
    return piece;
  }

  /** The text not yet released (a trailing broken character, decoded as U+FFFD); '' when none. */
  flush(): string {
    const text = this.text();
    const piece = text.startsWith(this.shown) ? text.slice(this.shown.length) : '';
    this.shown = text;
    return piece;
  }

  /** The decoded text of every id pushed so far. */
  text(): string {
    return this.tokenizer.decode(this.ids, { skipSpecial: true });
  }
}
