// The package's install step: use the prebuilt addon when it loads, else build it from native/ with
// node-gyp; a failed build prints one line with the fix and leaves qkv on its ref backend.
//
// Exit codes: 0 when the addon loads or, for a user's `npm i qkv`, when it could not be built (qkv
// still works, slower). Non-zero on a failed build when CI is set, or in a source checkout of qkv
// with a C compiler present, so that a broken native build cannot pass CI or a developer silently.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
// A source checkout (the repo) has src/; the published package ships only dist/.
const sourceCheckout = existsSync(join(root, 'src', 'index.ts'));
const truthy = (v) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
const inCI = truthy(process.env.CI);
// `npm install --build-from-source` (or npm_config_build_from_source=true) skips the prebuilt.
const fromSource = truthy(process.env.npm_config_build_from_source);

/** The addon node-gyp-build finds (build/Release, then prebuilds/), if it loads here; else null. */
function loadableAddon() {
  try {
    const nodeGypBuild = require('node-gyp-build');
    const file = nodeGypBuild.path(root);
    require(file);
    return file;
  } catch {
    return null;
  }
}

/** Whether a C compiler answers (`$CC`, else `cc`). */
function hasCompiler() {
  const r = spawnSync(process.env.CC || 'cc', ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

/** node-gyp rebuild, with npm's own node-gyp when npm runs this script; output captured. */
function nodeGypRebuild() {
  const bundled = process.env.npm_config_node_gyp;
  const [cmd, args] = bundled ? [process.execPath, [bundled, 'rebuild']] : ['node-gyp', ['rebuild']];
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', shell: !bundled && process.platform === 'win32', maxBuffer: 64 << 20 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error) return { ok: false, output, reason: `${cmd} could not start: ${r.error.message}` };
  return { ok: r.status === 0, output, reason: firstError(output) ?? `node-gyp rebuild exited with code ${r.status}` };
}

/** The first line that says what went wrong: the compiler's or python's error, else node-gyp's own. */
function firstError(output) {
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const own = lines.find((l) => !l.startsWith('gyp') && (/error:/i.test(l) || /not found/i.test(l)));
  const gyp = lines.find((l) => l.startsWith('gyp ERR! stack Error:'))?.replace('gyp ERR! stack Error: ', '');
  const line = own ?? gyp;
  return line && line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

if (!sourceCheckout && !fromSource) {
  const prebuilt = loadableAddon();
  if (prebuilt) process.exit(0);
}

const build = nodeGypRebuild();
const built = build.ok ? loadableAddon() : null;
if (built) {
  if (sourceCheckout) process.stdout.write(`qkv: built the native addon (${built})\n`);
  process.exit(0);
}

const reason = build.ok ? 'the built addon does not load' : build.reason;
const strict = inCI || (sourceCheckout && hasCompiler());
if (strict) {
  process.stderr.write(build.output);
  const why = inCI ? 'CI is set' : 'this is a source checkout of qkv with a C compiler';
  process.stderr.write(`qkv: the native addon did not build (${reason}); failing the install because ${why}\n`);
  process.exit(1);
}
const fix = sourceCheckout
  ? 'install a C compiler, python3 and make, then run `npm run build:native`'
  : 'install a C compiler, python3 and make, then run `npm rebuild qkv`';
process.stderr.write(`qkv: the native addon did not build (${reason}); qkv runs on the slower ref backend until you ${fix}\n`);
process.exit(0);
