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
 * The completeness marker writeDirAtomic writes last into every folder: `{ "files": { name: bytes } }`.
 * A folder whose marker is there and whose listed files all have their listed sizes was written
 * whole; a copy left by a kill (`<dir>.tmp-*` mid-write, `<dir>.old-*` mid-delete) may be torn.
 */
export const DIR_MANIFEST = '.qkv-manifest.json';

/**
 * Writes a whole folder (a checkpoint: weights, config, optimizer state) atomically. The files
 * are built in `dir + '.tmp-<random>'` and fsync'd, then the manifest ({@link DIR_MANIFEST}) is
 * written last; then the old folder, if any, is renamed aside to `dir + '.old-<random>'`, the new
 * one renamed into place, and the old one removed. A crash before the swap leaves the old folder
 * intact (and a stray `.tmp-` folder); a crash between the two renames leaves no `dir` but two
 * complete copies (`.old-` and `.tmp-`, each with its manifest), which {@link findCompleteCopy}
 * finds. `dir` never holds a half-written folder. After the swap, stray `.tmp-*` and `.old-*`
 * siblings of `dir` left by earlier crashes are removed (one writer per folder at a time). Names
 * may contain `/` for subfolders but must stay inside `dir`.
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
  for (const name of names) {
    checkName(target, name);
    if (name === DIR_MANIFEST) throw new ArgumentError(`writeDirAtomic: file name "${name}" for ${target} is reserved for the completeness manifest`);
  }
  if (await exists(target)) {
    const st = await fs.stat(target);
    if (!st.isDirectory()) throw new ArgumentError(`writeDirAtomic: ${target} exists and is not a directory`);
  }

  const parent = dirname(target);
  await fs.mkdir(parent, { recursive: true });
  const tmp = `${target}.tmp-${suffix()}`;
  await fs.mkdir(tmp);
  try {
    const sizes: Record<string, number> = {};
    for (const name of names) {
      const path = join(tmp, name);
      await fs.mkdir(dirname(path), { recursive: true });
      const data = files[name];
      await writeAndSync(path, data);
      sizes[name] = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    }
    for (const d of new Set(names.map((n) => dirname(join(tmp, n))))) await syncDir(d);
    // Last, once every file is on disk: a folder with this manifest was written whole.
    await writeAndSync(join(tmp, DIR_MANIFEST), JSON.stringify({ files: sizes }) + '\n');
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
  await removeStaleCopies(target);
}

/** The `<dir>.tmp-*` and `<dir>.old-*` siblings of `dir` (full paths), newest first. */
export async function staleCopies(dir: string): Promise<string[]> {
  const target = dir.replace(/[\\/]+$/, '') || dir;
  const parent = dirname(target);
  const base = basename(target);
  let names: string[];
  try {
    names = (await fs.readdir(parent)).filter((n) => n.startsWith(`${base}.tmp-`) || n.startsWith(`${base}.old-`));
  } catch {
    return [];
  }
  const dated = await Promise.all(names.map(async (n) => {
    const path = join(parent, n);
    const t = await fs.lstat(path).then((st) => st.mtimeMs, () => -1);
    return { path, t };
  }));
  return dated.filter((d) => d.t >= 0).sort((a, b) => b.t - a.t).map((d) => d.path);
}

/** Removes what crashed saves of `dir` left beside it (`<dir>.tmp-*`, `<dir>.old-*`). */
export async function removeStaleCopies(dir: string): Promise<void> {
  for (const path of await staleCopies(dir)) await fs.rm(path, { recursive: true, force: true }).catch(() => undefined);
}

/**
 * Whether `dir` was written whole by writeDirAtomic: its manifest is there and every file it lists
 * has the listed size. A folder written by other means (or by an older qkv) has no manifest: false.
 *
 * @example
 * await isCompleteDir('runs/g2p/last.old-1a2b3c'); // false when a kill left it half-deleted
 */
export async function isCompleteDir(dir: string): Promise<boolean> {
  let manifest: unknown;
  try {
    manifest = JSON.parse(await fs.readFile(join(dir, DIR_MANIFEST), 'utf8'));
  } catch {
    return false;
  }
  const listed = (manifest as { files?: unknown } | null)?.files;
  if (listed === null || typeof listed !== 'object' || Array.isArray(listed)) return false;
  for (const [name, size] of Object.entries(listed as Record<string, unknown>)) {
    try {
      checkName(dir, name);
      const st = await fs.stat(join(dir, name));
      if (!st.isFile() || st.size !== size) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * The newest complete copy a crashed save of `dir` left beside it (`<dir>.old-*` or `<dir>.tmp-*`
 * with its manifest whole), or null. For when `dir` itself is missing: a kill between
 * writeDirAtomic's two renames.
 *
 * @example
 * if (!existsSync('runs/g2p/last')) await findCompleteCopy('runs/g2p/last'); // 'runs/g2p/last.tmp-…' or null
 */
export async function findCompleteCopy(dir: string): Promise<string | null> {
  for (const path of await staleCopies(dir)) if (await isCompleteDir(path)) return path;
  return null;
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
