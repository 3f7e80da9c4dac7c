// The main entry must bundle for a browser: no static import of Node's modules (only the data
// loaders import node:fs lazily, when called), and the ref backend runs there. With package.json's
// "browser" map (load.js → load-browser.js, what bundlers apply to the installed package), even the
// lazy imports go: test/package/package.test.ts checks that on the packed tarball.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('src/index.ts bundles for the browser with no static node: imports', async () => {
  const out = await build({
    entryPoints: ['src/index.ts'], bundle: true, platform: 'browser', format: 'esm', write: false,
    external: ['node:*'], logLevel: 'silent',
  });
  const code = out.outputFiles[0].text;
  const staticNode = code.match(/^import .* from "node:[^"]+";?$/gm) ?? [];
  assert.deepEqual(staticNode, [], `static node imports in the browser bundle: ${staticNode.join(', ')}`);
  const lazy = [...code.matchAll(/import\("(node:[^"]+)"\)/g)].map((m) => m[1]).sort();
  assert.deepEqual(lazy, ['node:fs', 'node:fs/promises', 'node:module', 'node:readline'], 'only the data loaders (src/data/load.ts) import node modules, lazily');
});

test('with package.json\'s "browser" map applied to the sources, src/index.ts bundles with no externals and no node: import', async () => {
  const browserMap = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { browser: Record<string, string> }).browser;
  // The map names dist/ files; the same swap on the sources: ./dist/src/x.js → src/x.ts.
  const toSource = (p: string): string => join(ROOT, p.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts'));
  const swaps = new Map(Object.entries(browserMap).map(([from, to]) => [toSource(from), toSource(to)]));
  assert.ok(swaps.size > 0, 'package.json has no "browser" map');
  const swapped: string[] = [];
  const browserField: Plugin = {
    name: 'browser-field-on-sources',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        const file = join(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
        const to = swaps.get(file);
        if (!to) return undefined;
        swapped.push(file);
        return { path: to };
      });
    },
  };
  const out = await build({
    entryPoints: ['src/index.ts'], bundle: true, platform: 'browser', format: 'esm', write: false,
    plugins: [browserField], logLevel: 'silent',
  });
  assert.ok(swapped.length > 0, 'the browser map swapped no module');
  const code = out.outputFiles[0].text;
  const nodeImports = code.match(/(?:from\s*|import\s*\(\s*|require\s*\(\s*)["']node:[^"']*["']/g) ?? [];
  assert.deepEqual(nodeImports, [], 'node: imports in the browser bundle');
});

test('src/data/load-browser.ts, which the "browser" map puts in place of load.ts, exports every function load.ts does', async () => {
  const node = await import('../../src/data/load.js');
  const browser = await import('../../src/data/load-browser.js');
  assert.deepEqual(Object.keys(browser).sort(), Object.keys(node).sort());
  await assert.rejects(browser.readLines('pairs.tsv').next(), /pairs\.tsv: cannot be read in a browser/);
});
