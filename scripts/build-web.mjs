// Builds the page (web/) with esbuild into dist/web/: index.html, app.js (the page, with qkv's browser entry),
// worker.js (training), style.css, and viewer.html (the self-contained view: its script and styles inlined).
// Run: node scripts/build-web.mjs [outdir]. `qkv view` in a checkout calls buildWeb({ write: false }).

import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WEB = join(ROOT, 'web');

/** package.json's "browser" map applied to the sources (data/load.ts → data/load-browser.ts), as a bundler applies it to dist/. */
const browserField = {
  name: 'browser-field-on-sources',
  setup(b) {
    const load = join(ROOT, 'src', 'data', 'load.js');
    b.onResolve({ filter: /load\.js$/ }, (args) => (join(args.resolveDir, args.path) === load ? { path: join(ROOT, 'src', 'data', 'load-browser.ts') } : undefined));
  },
};

const common = {
  bundle: true, platform: 'browser', format: 'esm', target: 'es2022', minify: true, legalComments: 'none', write: false,
  logLevel: 'silent', plugins: [browserField], absWorkingDir: ROOT, sourcemap: false,
};

/** Inline text for a <script> element: no '</script' inside. */
const scriptSafe = (js) => js.replace(/<\/(script)/gi, '<\\/$1');

/**
 * Builds the page; returns its files (name → contents). With `write`, writes them to `outdir`.
 *
 * @example
 * const files = await buildWeb({ write: false }); files.get('app.js').length;
 */
export async function buildWeb({ outdir = join(ROOT, 'dist', 'web'), write = true } = {}) {
  const [app, worker, viewer] = await Promise.all([
    build({ ...common, entryPoints: [join(WEB, 'src', 'main.ts')] }),
    build({ ...common, entryPoints: [join(WEB, 'src', 'train', 'worker.ts')] }),
    build({ ...common, format: 'iife', entryPoints: [join(WEB, 'src', 'viewer.ts')] }),
  ]);
  const css = readFileSync(join(WEB, 'style.css'), 'utf8');
  const viewerHtml = readFileSync(join(WEB, 'viewer.html'), 'utf8')
    .replace('/*qkv-style*/', () => css.replace(/<\//g, '<\\/'))
    .replace('/*qkv-viewer*/', () => scriptSafe(viewer.outputFiles[0].text));
  const files = new Map([
    ['index.html', readFileSync(join(WEB, 'index.html'), 'utf8')],
    ['style.css', css],
    ['app.js', app.outputFiles[0].text],
    ['worker.js', worker.outputFiles[0].text],
    ['viewer.html', viewerHtml],
  ]);
  if (write) {
    mkdirSync(outdir, { recursive: true });
    for (const [name, text] of files) writeFileSync(join(outdir, name), text);
  }
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outdir = process.argv[2] ?? join(ROOT, 'dist', 'web');
  const files = await buildWeb({ outdir });
  const kib = (s) => `${(Buffer.byteLength(s) / 1024).toFixed(0)} KiB`;
  console.log(`web page built in ${outdir}: ${[...files].map(([n, t]) => `${n} ${kib(t)}`).join(', ')}`);
}
