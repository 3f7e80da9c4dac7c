// The main entry must bundle for a browser: no static import of Node's modules (only the data
// loaders import node:fs lazily, when called), and the ref backend runs there.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';

test('src/index.ts bundles for the browser with no static node: imports', async () => {
  const out = await build({
    entryPoints: ['src/index.ts'], bundle: true, platform: 'browser', format: 'esm', write: false,
    external: ['node:*'], logLevel: 'silent',
  });
  const code = out.outputFiles[0].text;
  const staticNode = code.match(/^import .* from "node:[^"]+";?$/gm) ?? [];
  assert.deepEqual(staticNode, [], `static node imports in the browser bundle: ${staticNode.join(', ')}`);
  const lazy = [...code.matchAll(/import\("(node:[^"]+)"\)/g)].map((m) => m[1]).sort();
  assert.deepEqual(lazy, ['node:fs/promises', 'node:module'], 'only the data loaders import node modules, lazily');
});
