// The native backend must load wherever it could have been built, so that a failed build fails the suite.
//
// `npm ci` runs `node-gyp rebuild || echo ...`: a broken build still installs, and every native suite would
// then skip instead of failing. This file turns that skip into a failure where the addon is expected: when
// CI is set (CI=true, as CI services set it), or when a C compiler (cc, gcc or clang) is on PATH, since
// then `npm ci` builds the addon. Elsewhere (no compiler, no CI) a missing addon is a counted skip.
// It also checks that the addon chose the sgemm kernel this CPU should run (native/gemm-select.c: the
// first kernel the CPU supports that passes its self-check), read from /proc/cpuinfo's flags.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { loadNativeBackend } from '../../src/node/index.js';
import { underCi } from '../helpers/ci.js';

/** The first of `names` found as a file in a PATH directory, or null. */
function onPath(names: readonly string[]): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const n of names) if (dir && existsSync(join(dir, n))) return join(dir, n);
  }
  return null;
}

const compiler = onPath(['cc', 'gcc', 'clang']);
/** Why the addon must load here, or null when it may be missing. */
const required = underCi ? `CI=${process.env.CI}` : compiler ? `a C compiler is on PATH (${compiler}), so npm ci builds the addon` : null;

/** The kernel native/gemm-select.c picks on a CPU with these /proc/cpuinfo flags (its `supported` checks). */
function expectedKernel(flags: ReadonlySet<string>): string {
  if (flags.has('avx512f') && flags.has('fma')) return 'avx512';
  if (flags.has('avx2') && flags.has('fma')) return 'avx2';
  return 'portable';
}

/** The first CPU's flags (x86 'flags', ARM 'Features'), or null without /proc/cpuinfo. */
function cpuFlags(): Set<string> | null {
  if (!existsSync('/proc/cpuinfo')) return null;
  const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
  return new Set((line?.split(':')[1] ?? '').trim().split(/\s+/));
}

// Importing the Node entry point already tried to load the addon: when it failed, its one warning
// ('qkv: native backend unavailable (<reason>)') is above this file's results.
const native = loadNativeBackend();

test('the native backend loaded (required under CI or with a C compiler on PATH)', (t) => {
  if (!native && !required) return t.skip('no C compiler on PATH and CI is not set: the addon cannot have been built here');
  assert.ok(native, `the native addon did not load although ${required} (the reason is in the 'qkv: native backend unavailable' ` +
    'warning above). Run `npm run build:native` to see the build error.');
});

test('the addon chose the sgemm kernel this CPU should run (avx512 with avx512f+fma, avx2 with avx2+fma, else portable)', (t) => {
  if (!native) return t.skip('the native addon did not load (see the test above)');
  const flags = cpuFlags();
  if (!flags) return t.skip('no /proc/cpuinfo to read the CPU flags from');
  const want = expectedKernel(flags);
  assert.equal(native.gemmKernel(), want,
    `/proc/cpuinfo flags ${['avx512f', 'avx2', 'fma'].filter((f) => flags.has(f)).join('+') || '(none of avx512f, avx2, fma)'} call for the ${want} kernel`);
});
