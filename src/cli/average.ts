// `qkv average`: one checkpoint holding the mean weights of several of one model, as the paper's base models (§6.1).

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeDirAtomic } from '../node/atomic-write.js';
import { readCheckpointDir, resolveCheckpointDir } from '../node/checkpoint.js';
import { listSnapshots, SNAPSHOTS_DIR } from '../node/snapshots.js';
import { averageStates } from '../train/average.js';
import { checkpointFiles } from '../train/checkpoint.js';
import { CliError } from './errors.js';
import { stdio } from './train.js';
import type { Output } from './train.js';

/** Flags of `qkv average`. */
export interface AverageFlags {
  out: string;
  /** With one run folder: average its newest this many snapshots. */
  last?: number;
  overwrite?: boolean;
}

/**
 * Averages checkpoints (folders, or with `--last N` the newest N snapshots of one run folder written
 * with `keepCheckpoints`) into `flags.out`: the first checkpoint's config and tokenizers with the
 * mean weights, no training state. They must be checkpoints of one model (same kind and config).
 */
export async function averageCommand(paths: string[], flags: AverageFlags, io: Output = stdio): Promise<void> {
  const dirs = await chosen(paths, flags.last);
  if (existsSync(flags.out) && !flags.overwrite) throw new CliError(`${flags.out}: already exists, expected a new folder (or --overwrite to replace it)`);
  if (dirs.some((d) => resolve(d) === resolve(flags.out))) throw new CliError(`${flags.out}: is one of the checkpoints being averaged, expected another folder`);
  const cks = [];
  for (const dir of dirs) cks.push(await readCheckpointDir(dir));
  const first = cks[0];
  const model = JSON.stringify(first.config.model);
  for (const ck of cks.slice(1)) {
    if (ck.config.modelKind !== first.config.modelKind || JSON.stringify(ck.config.model) !== model) {
      throw new CliError(`${ck.source}/config.json: a ${ck.config.modelKind} of another config than ${first.source}, expected checkpoints of one model`);
    }
  }
  const mean = averageStates(cks.map((ck) => ({ source: `${ck.source}/model.safetensors`, state: ck.modelState })));
  const files = checkpointFiles({
    modelKind: first.config.modelKind, modelConfig: first.config.model, model: { stateDict: () => mean },
    tokenizer: first.tokenizer, targetTokenizer: first.targetTokenizer, task: first.config.task,
  });
  await writeDirAtomic(flags.out, files);
  const steps = cks.map((ck) => ck.trainerState?.step).filter((s) => s !== undefined);
  io.out(`wrote ${flags.out}: the mean of ${cks.length} checkpoints (${dirs.join(', ')})${steps.length ? `, steps ${steps.join(', ')}` : ''}`);
}

async function chosen(paths: string[], last: number | undefined): Promise<string[]> {
  if (last === undefined) {
    if (paths.length < 2) throw new CliError(`average: ${paths.length} checkpoint given, expected two or more, or one run folder with --last N`);
    return paths.map((p) => resolveCheckpointDir(p));
  }
  if (paths.length !== 1) throw new CliError(`average --last ${last}: ${paths.length} folders given, expected one run folder (its ${SNAPSHOTS_DIR}/)`);
  const snaps = await listSnapshots(paths[0]);
  if (snaps.length < last) {
    throw new CliError(`${paths[0]}/${SNAPSHOTS_DIR}: ${snaps.length} snapshot${snaps.length === 1 ? '' : 's'}, expected at least ${last} (train with "keepCheckpoints": ${last} in the config)`);
  }
  return snaps.slice(-last).map((s) => s.dir);
}
