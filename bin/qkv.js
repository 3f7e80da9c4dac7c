#!/usr/bin/env node
// The qkv command. Installed from npm it runs the compiled CLI in dist/; in a source checkout of the
// repo (src/ is there, never in the package) it runs the TypeScript through tsx, so developers'
// edits take effect with no build step and a stale dist/ is never run by mistake.

import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);

async function loadMain() {
  if (existsSync(source)) {
    let tsx;
    try {
      tsx = await import('tsx/esm/api');
    } catch {
      if (!existsSync(compiled)) {
        process.stderr.write('qkv: this source checkout has neither tsx (run `npm ci`) nor a build in dist/ (run `npm run build`)\n');
        process.exit(1);
      }
    }
    if (tsx) {
      tsx.register();
      return (await import(source.href)).main;
    }
  }
  if (!existsSync(compiled)) {
    process.stderr.write('qkv: dist/src/cli/main.js is missing: this copy of qkv was packed without its build (`npm pack` builds it)\n');
    process.exit(1);
  }
  return (await import(compiled.href)).main;
}

const main = await loadMain();
process.exitCode = await main(process.argv.slice(2));
