// Progress of reading a data file on stderr: a bar on a terminal, a line every 10% of a large file elsewhere.

import cliProgress from 'cli-progress';
import type { ReadProgress } from '../data/load.js';

/** Options of {@link readProgress}. */
export interface ReadProgressOptions {
  /** Where it goes (default process.stderr). */
  stream?: NodeJS.WriteStream;
  /** Files smaller than this many bytes show nothing (default 1 MB on a terminal, 64 MB elsewhere). */
  minBytes?: number;
}

/** One unit for a byte count: 1.5 GB, 20.0 MB, 512 kB. */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${Math.round(n / 1e3)} kB`;
  return `${n} B`;
}

/**
 * A progress display for readLines' `onProgress` (qkv train and qkv eval read your files as
 * streams, often twice: once for the tokenizer, once to encode). On a terminal a bar per pass;
 * elsewhere, for a large file, one line at every 10%.
 *
 * @example
 * const progress = readProgress();
 * await buildTaskRun(config, undefined, { onProgress: progress.onProgress });
 * progress.stop();
 */
export function readProgress(opts: ReadProgressOptions = {}): { onProgress: (p: ReadProgress) => void; stop: () => void } {
  const stream = opts.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const minBytes = opts.minBytes ?? (tty ? 1e6 : 64e6);
  let bar: cliProgress.SingleBar | null = null;
  let file = '';
  let last = -1;
  let shown = -1;
  const stop = (): void => {
    bar?.stop();
    bar = null;
  };
  const onProgress = (p: ReadProgress): void => {
    if (p.totalBytes < minBytes) return;
    const fresh = p.file !== file || p.bytes < last;
    last = p.bytes;
    file = p.file;
    if (tty) {
      if (fresh) {
        stop();
        bar = new cliProgress.SingleBar({ stream, format: `reading ${p.file} {bar} {percentage}% | {done} of {total_text}`, hideCursor: true, barsize: 24 }, cliProgress.Presets.shades_classic);
        bar.start(p.totalBytes, 0, { done: formatBytes(0), total_text: formatBytes(p.totalBytes) });
      }
      bar!.update(p.bytes, { done: formatBytes(p.bytes) });
      if (p.bytes >= p.totalBytes) stop();
      return;
    }
    const tenth = Math.floor((10 * p.bytes) / p.totalBytes);
    if (fresh) shown = -1;
    if (tenth > shown) {
      shown = tenth;
      stream.write(`reading ${p.file}: ${10 * tenth}% (${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)})\n`);
    }
  };
  return { onProgress, stop };
}
