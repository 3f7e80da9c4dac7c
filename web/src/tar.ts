// A tar archive (ustar) of a few files in one folder, so a checkpoint folder downloads as one file: `tar xf` gives the folder.

const enc = new TextEncoder();

function header(name: string, size: number, mtime: number, type: '0' | '5'): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string, at: number, len: number) => h.set(enc.encode(s).subarray(0, len), at);
  const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, '0');
  put(name, 0, 100);
  put(octal(type === '5' ? 0o755 : 0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(mtime, 12), 136, 12);
  put('        ', 148, 8); // the checksum field counts as spaces while summing
  put(type, 156, 1);
  put('ustar\u000000', 257, 8);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${octal(sum, 7)}\u0000 `, 148, 8);
  return h;
}

/**
 * The bytes of a tar holding `folder/` and each file under it.
 *
 * @example
 * new Blob([tarFolder('copy-checkpoint', { 'config.json': '{...}' })]);
 */
export function tarFolder(folder: string, files: Record<string, Uint8Array | string>, mtime = Math.floor(Date.now() / 1000)): Uint8Array {
  const parts: Uint8Array[] = [header(`${folder}/`, 0, mtime, '5')];
  for (const [name, content] of Object.entries(files)) {
    const bytes = typeof content === 'string' ? enc.encode(content) : content;
    parts.push(header(`${folder}/${name}`, bytes.length, mtime, '0'), bytes, new Uint8Array((512 - (bytes.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024)); // two zero blocks end the archive
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
