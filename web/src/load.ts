// Getting a checkpoint's files into the page: from the server of `qkv view`, or from a folder the user picks or drops.

import { PRETRAINED_FILES, loadPretrained } from './qkv.js';
import type { Backend, Pretrained } from './qkv.js';

/** Where `qkv view` serves its checkpoint: a list of the files, then each file by name. */
export const SERVED_CHECKPOINT = 'checkpoint/';

/** A load that went wrong, with a message for the page. */
export class LoadError extends Error {}

/**
 * The checkpoint `qkv view` serves beside the page, or null when the page is not served by it
 * (no checkpoint/index.json).
 */
export async function fetchServedCheckpoint(backend: Backend, base: string = SERVED_CHECKPOINT): Promise<Pretrained | null> {
  const list = await fetch(`${base}index.json`).catch(() => null);
  if (!list || !list.ok) return null;
  const index = (await list.json()) as { source?: string; files?: string[] };
  const files: Record<string, Uint8Array> = {};
  for (const name of index.files ?? []) {
    const r = await fetch(`${base}${encodeURIComponent(name)}`);
    if (!r.ok) throw new LoadError(`${base}${name}: HTTP ${r.status}`);
    files[name] = new Uint8Array(await r.arrayBuffer());
  }
  return loadPretrained(files, { source: index.source ?? 'served checkpoint', backend });
}

/** A file with the folder path a picker or a drop gives it ('runs/demo/best/config.json'). */
export interface PickedFile {
  path: string;
  file: Blob;
}

/**
 * The checkpoint among picked files: a checkpoint folder, or a run folder (its best/, else last/,
 * as the CLI reads one). Only the files using a model reads are kept.
 */
export function chooseCheckpointFiles(picked: readonly PickedFile[]): { folder: string; files: PickedFile[] } {
  const configs = picked.filter((p) => p.path.split('/').pop() === 'config.json').map((p) => p.path.slice(0, -'config.json'.length));
  if (configs.length === 0) {
    throw new LoadError(`no config.json among the ${picked.length} files picked: pick a checkpoint folder (config.json, model.safetensors, tokenizer.json) or a run folder holding best/ or last/`);
  }
  const rank = (dir: string) => (/(^|\/)best\/$/.test(dir) ? 0 : /(^|\/)last\/$/.test(dir) ? 1 : 2);
  const folder = [...configs].sort((a, b) => rank(a) - rank(b) || a.length - b.length)[0];
  const files = picked.filter((p) => p.path.startsWith(folder) && PRETRAINED_FILES.includes(p.path.slice(folder.length)));
  return { folder: folder.replace(/\/$/, '') || '(picked files)', files };
}

/** Loads the checkpoint among picked files. */
export async function loadPickedCheckpoint(picked: readonly PickedFile[], backend: Backend): Promise<Pretrained> {
  const { folder, files } = chooseCheckpointFiles(picked);
  const bytes: Record<string, Uint8Array> = {};
  for (const f of files) bytes[f.path.slice(f.path.lastIndexOf('/') + 1)] = new Uint8Array(await f.file.arrayBuffer());
  return loadPretrained(bytes, { source: folder, backend });
}

/** The files of an <input type=file webkitdirectory> (or a plain multiple one). */
export function pickedFromInput(list: FileList): PickedFile[] {
  return [...list].map((f) => ({ path: (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name, file: f }));
}

/** The files of a drop: folders walked through the entries API. */
export async function pickedFromDrop(items: DataTransferItemList): Promise<PickedFile[]> {
  const out: PickedFile[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail));
      out.push({ path: prefix + entry.name, file });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
        if (batch.length === 0) break;
        for (const e of batch) await walk(e, `${prefix}${entry.name}/`);
      }
    }
  };
  const entries = [...items].map((i) => i.webkitGetAsEntry()).filter((e): e is FileSystemEntry => e !== null);
  for (const e of entries) await walk(e, '');
  return out;
}
