// Crash-safe writes: a file or a whole checkpoint folder appears complete or not at all.
//
// The pattern is write-to-temp, fsync, rename: rename() within one directory is atomic on POSIX
// file systems, so a reader (or a resumed run) sees the old version or the new one, never a torn
// mix. Temporaries sit next to their target so the rename never crosses a file system.

import { randomBytes } from 'node:crypto';
import { constants as fsc, promises as fs } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { ArgumentError } from '../core/errors.js';
import { parseSafetensors, serializeSafetensors } from '../io/safetensors.js';
import type { SafetensorsFile } from '../io/safetensors.js';
import type { Tensor } from '../tensor/index.js';

const suffix = (): string => randomBytes(6).toString('hex');

async function writeAndSync(path: string, data: Uint8Array | string): Promise<void> {
  // 'wx': never follow or clobber something that is already there under our temporary name.
  const fh = await fs.open(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync a directory so a rename inside it survives power loss. Not supported everywhere (Windows): best effort. */
async function syncDir(dir: string): Promise<void> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(dir, fsc.O_RDONLY);
    await fh.sync();
  } catch {
    // A directory that cannot be opened or synced still got the rename; only durability is weaker.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * Writes `bytes` to `path` atomically: to a temporary file in the same directory, fsync'd, then
 * renamed over the target. On failure the temporary is removed and the old file, if any, is left
 * untouched.
 *
 * @example
 * await writeFileAtomic('run/config.json', JSON.stringify(config));
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${suffix()}`);
  try {
    await writeAndSync(tmp, bytes);
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  await syncDir(dirname(path));
}

/** Checks a relative file name stays inside its folder. */
function checkName(dir: string, name: string): void {
  const n = normalize(name);
  if (name === '' || isAbsolute(name) || n === '..' || n.startsWith('..' + sep) || n === '.' || n.endsWith(sep)) {
    throw new ArgumentError(`writeDirAtomic: file name "${name}" for ${dir} must be a relative path inside the folder`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.lstat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/**
 * Writes a whole folder (a checkpoint: weights, config, optimizer state) atomically. The files
 * are built in `dir + '.tmp-<random>'` and fsync'd; then the old folder, if any, is renamed aside
 * to `dir + '.old-<random>'`, the new one renamed into place, and the old one removed. A crash
 * before the swap leaves the old folder intact (and a stray `.tmp-` folder); a crash between the
 * two renames leaves the complete old folder under its `.old-` name. `dir` never holds a
 * half-written checkpoint. Names may contain `/` for subfolders but must stay inside `dir`.
 *
 * @example
 * await writeDirAtomic('ckpt/step-1000', {
 *   'model.safetensors': serializeSafetensors(model.stateDict()),
 *   'config.json': JSON.stringify(config),
 * });
 */
export async function writeDirAtomic(dir: string, files: Record<string, Uint8Array | string>): Promise<void> {
  const target = dir.replace(/[\\/]+$/, '') || dir;
  const names = Object.keys(files);
  for (const name of names) checkName(target, name);
  if (await exists(target)) {
    const st = await fs.stat(target);
    if (!st.isDirectory()) throw new ArgumentError(`writeDirAtomic: ${target} exists and is not a directory`);
  }

  const parent = dirname(target);
  await fs.mkdir(parent, { recursive: true });
  const tmp = `${target}.tmp-${suffix()}`;
  await fs.mkdir(tmp);
  try {
    for (const name of names) {
      const path = join(tmp, name);
      await fs.mkdir(dirname(path), { recursive: true });
      await writeAndSync(path, files[name]);
    }
    for (const d of new Set(names.map((n) => dirname(join(tmp, n))))) await syncDir(d);
    await syncDir(tmp);
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }

  let old: string | null = null;
  try {
    if (await exists(target)) {
      old = `${target}.old-${suffix()}`;
      await fs.rename(target, old);
    }
    await fs.rename(tmp, target);
  } catch (e) {
    // Put the old folder back if the new one did not make it into place.
    if (old !== null && !(await exists(target))) await fs.rename(old, target).catch(() => undefined);
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  await syncDir(parent);
  if (old !== null) await fs.rm(old, { recursive: true, force: true });
}

/**
 * Reads a .safetensors file; errors name the path.
 *
 * @example
 * const { tensors, metadata } = await loadSafetensorsFile('model.safetensors');
 */
export async function loadSafetensorsFile(path: string, opts: { backend?: Backend } = {}): Promise<SafetensorsFile> {
  const bytes = await fs.readFile(path);
  return parseSafetensors(bytes, { source: path, backend: opts.backend });
}

/**
 * Writes tensors to a .safetensors file atomically.
 *
 * @example
 * await saveSafetensorsFile('model.safetensors', { 'linear.weight': w }, { format: 'pt' });
 */
export async function saveSafetensorsFile(
  path: string,
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
