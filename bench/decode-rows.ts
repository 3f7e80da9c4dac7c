// The batched decoding step (Backend.decodeStackRows, continuous batching's step) with its products as one product
// over the rows (register tiles across rows, the default) against the path before it (each row's products on their
// own), A/B in one process with alternating turns: tokens/s by rows, and the ratio.
//
// Run: node --import tsx bench/decode-rows.ts [--rows=1,4,16,64] [--d-model=256] [--layers=4] [--at=64]
//        [--seconds=0.3] [--rounds=5] [--threads=1]
// Each turn runs steps for --seconds with every row at position --at (the caches' contents do not matter to the
// time); tokens/s counts this process's CPU time (user + system), so a busy machine slows the figures less than wall
// time would, and the ratio is the median over rounds of new/old within each round.

import { GPT, noGrad, tensor } from '../src/node/index.js';
import { createNativeBackend } from '../src/backend/native.js';
import { loadNativeBackend } from '../src/node/backend-select.js';
import { cpuSeconds, fmt, median, option, printTable } from './common.js';

const rowsList = option('rows', '1,4,16,64').split(',').map(Number);
const dModel = Number(option('d-model', '256'));
const layers = Number(option('layers', '4'));
const at = Number(option('at', '64'));
const seconds = Number(option('seconds', '0.3'));
const rounds = Number(option('rounds', '5'));
const threads = Number(option('threads', '1'));

const loaded = loadNativeBackend();
if (!loaded?.addon.decodeRowTiles) throw new Error('bench/decode-rows: needs the native addon with decodeRowTiles (npm run build:native)');
const addon = loaded.addon;
const backend = createNativeBackend(addon);
backend.setThreads(threads);
const model = new GPT({ vocab: 512, dModel, heads: dModel / 32, layers, context: 512, dropout: 0, seed: 1, backend }).eval();

/** Tokens per CPU second of steps of `rows` rows at position `at`, with the row tiles on or off. */
function turn(rows: number, tiles: boolean): number {
  addon.decodeRowTiles!(tiles);
  const cache = model.createSlotCache(rows);
  const ids = tensor(Array.from({ length: rows }, (_, r) => [(r * 7) % 512]), { dtype: 'int32', backend });
  const reset = () => { for (let r = 0; r < rows; r++) for (const l of cache.row(r).layers) l.self.length = at; };
  let steps = 0;
  const t0 = cpuSeconds();
  let t = 0;
  noGrad(() => {
    while ((t = cpuSeconds() - t0) < seconds) {
      reset();
      for (let i = 0; i < 8; i++, steps++) model.decodeRows(ids, cache);
    }
  });
  return (rows * steps) / t;
}

const result: Record<number, { old: number[]; tiled: number[]; ratio: number[] }> = {};
for (const rows of rowsList) {
  result[rows] = { old: [], tiled: [], ratio: [] };
  turn(rows, false); turn(rows, true); // warm-up
  for (let r = 0; r < rounds; r++) {
    const first = r % 2 === 0;
    const a = turn(rows, !first), b = turn(rows, first);
    const [old, tiled] = first ? [a, b] : [b, a];
    result[rows].old.push(old); result[rows].tiled.push(tiled); result[rows].ratio.push(tiled / old);
  }
}
addon.decodeRowTiles!(true);
printTable(
  `decodeStackRows, GPT d ${dModel}, ${layers} layers, vocab 512, rows at position ${at}, ${threads} thread(s): tokens per CPU second, ` +
    `median of ${rounds} alternating rounds (load ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')})`,
  ['rows', 'row by row', 'one product', 'ratio'],
  rowsList.map((rows) => [String(rows), fmt(median(result[rows].old)), fmt(median(result[rows].tiled)), `${fmt(median(result[rows].ratio), 2)}×`]),
);
