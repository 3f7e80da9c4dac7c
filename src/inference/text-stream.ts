// Text pieces from token ids as they arrive: whole characters only, so a UTF-8 character split across tokens waits.

import type { Tokenizer } from '../tokenizers/tokenizer.js';

/**
 * Turns a stream of token ids into a stream of text pieces whose concatenation is the decoded
 * text of all the ids (specials skipped). When the text decoded so far ends in U+FFFD, the mark
 * of byte-level tokens that end inside a character, that last character is held back: the next
 * bytes may complete it. (An unfinished UTF-8 sequence at the end decodes as one U+FFFD, and
 * everything before it stays as it is whatever comes next, so the pieces only ever grow.)
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
    const stable = text.endsWith('\uFFFD') ? text.slice(0, -1) : text;
    if (!stable.startsWith(this.shown)) return '';
    const piece = stable.slice(this.shown.length);
    this.shown = stable;
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
