// Snapshots for checkpoint averaging: `<run>/snapshots/step-NNNNNNNN/`, the model of the last N saves of last/
// (the paper averages the last 5 or 20 checkpoints, §6.1). Each is a complete checkpoint without the training state.

import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_FILES } from '../train/checkpoint.js';
import { writeDirAtomic } from './atomic-write.js';

/** The folder of a run that holds its snapshots. */
export const SNAPSHOTS_DIR = 'snapshots';

const NAME = /^step-(\d+)$/;

/**
 * Writes the files of a checkpoint (minus optimizer.safetensors and trainer_state.json) as
 * `<root>/snapshots/step-<step>` atomically, then removes all but the newest `keep` snapshots.
 *
 * @example
 * await writeSnapshot('runs/de', 12000, files, 5); // runs/de/snapshots/step-00012000
 */
export async function writeSnapshot(root: string, step: number, files: Record<string, Uint8Array | string>, keep: number): Promise<void> {
  const model: Record<string, Uint8Array | string> = {};
  for (const [name, bytes] of Object.entries(files)) {
    if (name !== CHECKPOINT_FILES.optimizer && name !== CHECKPOINT_FILES.trainerState) model[name] = bytes;
  }
  await writeDirAtomic(join(root, SNAPSHOTS_DIR, `step-${String(step).padStart(8, '0')}`), model);
  const all = await listSnapshots(root);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) await fs.rm(old.dir, { recursive: true, force: true });
}

/**
 * The snapshots of a run folder, oldest first (none: an empty list).
 *
 * @example
 * (await listSnapshots('runs/de')).slice(-5).map((s) => s.dir);
 */
export async function listSnapshots(root: string): Promise<{ step: number; dir: string }[]> {
  const dir = join(root, SNAPSHOTS_DIR);
  if (!existsSync(dir)) return [];
  const out: { step: number; dir: string }[] = [];
  for (const name of await fs.readdir(dir)) {
    const m = NAME.exec(name);
    if (m && existsSync(join(dir, name, CHECKPOINT_FILES.config))) out.push({ step: Number(m[1]), dir: join(dir, name) });
  }
  return out.sort((a, b) => a.step - b.step);
}
