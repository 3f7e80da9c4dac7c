// `qkv export --format hf <checkpoint> <dir>`: a qkv checkpoint written as a Hugging Face folder.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { HF_FILES, hfFolderFiles } from '../inference/hf-folder.js';
import { writeDirAtomic } from '../node/atomic-write.js';
import { readCheckpointDir, resolveCheckpointDir } from '../node/checkpoint.js';
import { CliError } from './errors.js';
import { formatCount } from './format.js';
import { stdio } from './train.js';
import type { Output } from './train.js';

/** Flags of `qkv export`. */
export interface ExportFlags {
  format: 'hf';
  overwrite?: boolean;
}

/**
 * Writes the checkpoint at `path` (a checkpoint or run folder) to `dir` in Hugging Face's layout,
 * atomically: config.json, model.safetensors, tokenizer.json, tokenizer_config.json.
 */
export async function exportCommand(path: string, dir: string, flags: ExportFlags, io: Output = stdio): Promise<void> {
  const from = resolveCheckpointDir(path);
  if (resolve(from) === resolve(dir)) throw new CliError(`${dir}: is the checkpoint being exported, expected another folder`);
  if (existsSync(dir) && !flags.overwrite) throw new CliError(`${dir}: already exists, expected a new folder (or --overwrite to replace it)`);
  const ck = await readCheckpointDir(from);
  const files = hfFolderFiles(ck);
  await writeDirAtomic(dir, files);
  const config = JSON.parse(files[HF_FILES.config] as string) as { architectures: string[] };
  const bytes = (files[HF_FILES.model] as Uint8Array).byteLength;
  io.out(`wrote ${dir}: ${config.architectures[0]} from ${from} (${Object.keys(files).join(', ')}; model.safetensors ${formatCount(bytes)} bytes)`);
}
