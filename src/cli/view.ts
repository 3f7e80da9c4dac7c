// `qkv view` (the page and a checkpoint served on 127.0.0.1) and `qkv attention --out` (one self-contained HTML view).

import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PRETRAINED_FILES } from '../inference/pretrained.js';
import { attentionView } from '../inference/view-data.js';
import type { AttentionViewOptions } from '../inference/view-data.js';
import { embedAttentionView } from '../inference/view-json.js';
import { readCheckpointFiles, resolveCheckpointDir } from '../node/checkpoint.js';
import { loadPretrained } from '../node/pretrained.js';
import { packagedWasmPath } from '../node/wasm.js';
import { CliError } from './errors.js';
import { stdio } from './train.js';
import type { Output } from './train.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * The built page's files (index.html, app.js, worker.js, style.css, viewer.html). In a source
 * checkout (this file is TypeScript, run through tsx) the page is built from web/ now, so it is
 * never stale; in the installed package it is dist/web/, built by `npm run build`.
 */
export async function webAssets(): Promise<Map<string, string | Buffer>> {
  if (import.meta.url.endsWith('.ts')) {
    const script = join(HERE, '..', '..', 'scripts', 'build-web.mjs');
    const { buildWeb } = (await import(pathToFileURL(script).href)) as { buildWeb(o: { write: boolean }): Promise<Map<string, string>> };
    return buildWeb({ write: false });
  }
  const dir = join(HERE, '..', '..', 'web'); // dist/src/cli → dist/web
  if (!existsSync(join(dir, 'index.html'))) throw new CliError(`the page is not built: ${dir}/index.html is missing (run \`npm run build\`)`);
  return new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))]));
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json',
  '.wasm': 'application/wasm', // what WebAssembly.instantiateStreaming insists on
};
const typeOf = (name: string) => TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';

/** Options of {@link serveView}. */
export interface ServeViewOptions {
  /** Port on 127.0.0.1 (0: any free one). */
  port: number;
  /** The checkpoint served at /checkpoint/ (its folder), or null for the page alone. */
  checkpoint: string | null;
}

/**
 * Serves the page, and the checkpoint's files at /checkpoint/<name> with a list at
 * /checkpoint/index.json, on 127.0.0.1 only. The headers isolate the page (COOP/COEP), as threads
 * sharing memory (a multi-threaded wasm backend) need.
 */
export async function serveView(o: ServeViewOptions): Promise<{ server: Server; url: string }> {
  const assets = await webAssets();
  // The page's wasm backend: the module the package ships (without it the page says so and runs on ref).
  if (!assets.has('qkv.wasm') && existsSync(packagedWasmPath())) assets.set('qkv.wasm', readFileSync(packagedWasmPath()));
  const files = new Map<string, Uint8Array>();
  let source = '';
  if (o.checkpoint) {
    const read = await readCheckpointFiles(resolveCheckpointDir(o.checkpoint), PRETRAINED_FILES);
    await loadPretrained(read.files, { source: read.dir }); // a checkpoint the page cannot use fails here, in the terminal
    for (const [name, bytes] of read.files) files.set(name, bytes);
    source = read.dir;
  }
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    const headers = { 'Cache-Control': 'no-store', 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'X-Content-Type-Options': 'nosniff' };
    const send = (status: number, type: string, body: string | Uint8Array) => {
      res.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', `${req.method} not allowed: the page is read-only\n`);
    if (path === '/checkpoint/index.json') {
      if (!o.checkpoint) return send(404, 'text/plain', 'no checkpoint served: start qkv view with one\n');
      return send(200, typeOf(path), JSON.stringify({ source, files: [...files.keys()] }));
    }
    if (path.startsWith('/checkpoint/')) {
      const bytes = files.get(path.slice('/checkpoint/'.length));
      return bytes ? send(200, 'application/octet-stream', bytes) : send(404, 'text/plain', `${path}: no such checkpoint file\n`);
    }
    const name = path === '/' ? 'index.html' : path.slice(1);
    const body = assets.get(name);
    return body === undefined ? send(404, 'text/plain', `${path}: not found\n`) : send(200, typeOf(name), body);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(e.code === 'EADDRINUSE' ? new CliError(`port ${o.port} on 127.0.0.1 is in use, expected a free one (try --port 0 for any)`) : e));
    server.listen(o.port, '127.0.0.1', ok);
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/** Flags of `qkv view`. */
export interface ViewFlags { port: number }

/** `qkv view [checkpoint]`: serves the page (with the checkpoint) until Ctrl-C, printing its address. */
export async function viewCommand(path: string | undefined, flags: ViewFlags, io: Output = stdio): Promise<void> {
  const checkpoint = path ?? (existsSync('runs/demo') ? 'runs/demo' : null);
  if (checkpoint !== null && !existsSync(checkpoint)) throw new CliError(`${checkpoint}: no such checkpoint or run folder`);
  const { server, url } = await serveView({ port: flags.port, checkpoint });
  io.out(`qkv view: ${url}${checkpoint ? ` (checkpoint ${resolveCheckpointDir(checkpoint)})` : ' (no checkpoint: pick one in the page, or train the copy task there)'}; Ctrl-C stops it`);
  await new Promise<void>((ok) => {
    const stop = () => server.close(() => ok());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** Flags of `qkv attention`. */
export interface AttentionFlags extends AttentionViewOptions {
  out: string;
}

/** `qkv attention <checkpoint> <input> --out view.html`: one answer's attention as a self-contained HTML file. */
export async function attentionCommand(path: string, input: string, flags: AttentionFlags, io: Output = stdio): Promise<void> {
  const { out, ...options } = flags;
  const p = await loadPretrained(path);
  const view = await attentionView(p, input, options);
  const template = (await webAssets()).get('viewer.html');
  if (template === undefined) throw new CliError('the built page has no viewer.html (run `npm run build`)');
  writeFileSync(out, embedAttentionView(template.toString(), view));
  const heads = view.groups.map((g) => `${g.layers.length} × ${view.model.heads} ${g.kind}`).join(', ');
  io.out(`${out}: ${(statSync(out).size / 1024).toFixed(0)} KiB, one file (open it in a browser): ${JSON.stringify(view.input)} → ${JSON.stringify(view.output)}; layers × heads: ${heads}`);
}
