// A JSON Lines training log: one line per trainer event, appended and flushed as it happens.

import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ArgumentError } from '../core/errors.js';
import type { TrainEvent } from '../train/events.js';

/** A log file fed by trainer events. */
export interface JsonlLog {
  /** Pass as (or inside) the Trainer's onEvent. */
  onEvent(e: TrainEvent): void;
  /** Appends any JSON object as one line. */
  write(record: object): void;
  close(): void;
}

/**
 * Opens (appending, creating folders) a JSON Lines log: each event becomes one line
 * `{"time":"2025-…Z","type":"step","step":1,"loss":2.41,…}`. Lines are written synchronously, so a
 * crash loses at most the line being written; a resumed run appends to the same file.
 *
 * @example
 * const log = jsonlLog('runs/copy/train.jsonl');
 * const trainer = new Trainer(model, task, { maxSteps: 1000, onEvent: log.onEvent });
 * await trainer.run();
 * log.close();
 */
export function jsonlLog(path: string): JsonlLog {
  mkdirSync(dirname(path), { recursive: true });
  let fd: number | null = openSync(path, 'a');
  const write = (record: object): void => {
    if (fd === null) throw new ArgumentError(`jsonlLog: ${path} is closed, expected write() before close()`);
    writeSync(fd, JSON.stringify({ time: new Date().toISOString(), ...record }) + '\n');
  };
  return {
    write,
    onEvent: (e) => write(e),
    close: () => {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
