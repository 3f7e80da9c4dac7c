// Choosing the backend in Node: the native addon when it is built and loads, else ref (with one warning).

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../backend/backend.js';
import { NativeAddon, NativeBackend, createNativeBackend } from '../backend/native.js';
import { MAX_THREADS } from '../backend/check.js';
import { refBackend } from '../backend/ref.js';
import { ArgumentError } from '../core/errors.js';
import { setDefaultBackend } from '../tensor/default-backend.js';

export interface NativeOptions {
  /** Kernel threads, the caller included; 0 means all cores, at most 256 (MAX_THREADS). Default: QKV_THREADS, else all cores. */
  threads?: number;
  /**
   * The compiled addon; default: found by node-gyp-build in the package root, build/Release/ (a
   * build from source) first, then the prebuilt in prebuilds/<platform>-<arch>/.
   */
  addonPath?: string;
  /**
   * Use the fused kernels (softmax, layer norm, attention, cross-entropy, GELU, the Adam update;
   * default true). They are faster than the composed versions but round differently, so a training
   * run does not repeat bit for bit across the switch; `fused: false` gives the composed path on the
   * same native kernels (benchmarks, and bit-for-bit comparisons with older runs).
   */
  fused?: boolean;
}

/** The package root: the nearest directory above this file that holds package.json (src/ or dist/src/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return dirname(dirname(dirname(fileURLToPath(import.meta.url))));
}

/** How to build the addon: `npm rebuild qkv` where qkv is installed, the repo's script in a source checkout. */
function buildHint(root: string): string {
  if (existsSync(join(root, 'src', 'index.ts'))) return 'Build it with `npm run build:native` (or `npm ci`).';
  return 'Build it with `npm rebuild qkv` (needs a C compiler, python3 and make).';
}

/** The addon at `addonPath`, else the one node-gyp-build finds (build/Release, then prebuilds/). */
function requireAddon(root: string, addonPath: string | undefined): NativeAddon {
  const require = createRequire(import.meta.url);
  if (addonPath !== undefined) return require(addonPath) as NativeAddon;
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
  return nodeGypBuild(root) as NativeAddon;
}

function threadsFrom(opts: NativeOptions): number {
  if (opts.threads !== undefined) {
    if (!Number.isInteger(opts.threads) || opts.threads < 0 || opts.threads > MAX_THREADS) {
      throw new ArgumentError(`native backend: threads must be a whole number in [0, ${MAX_THREADS}] (0: all cores), got ${opts.threads}`);
    }
    return opts.threads;
  }
  const env = process.env.QKV_THREADS;
  if (env === undefined || env === '') return 0;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 0 || n > MAX_THREADS) throw new ArgumentError(`QKV_THREADS must be a whole number in [0, ${MAX_THREADS}] (0: all cores), got '${env}'`);
  return n;
}

let addon: NativeAddon | null | undefined;
const backends = new Map<boolean, NativeBackend>();
let warned = false;

/**
 * Loads the native backend once; null (after one console warning that says why) when the addon is
 * not built or will not load. Later calls return the same backend, with `threads` applied.
 *
 * @example
 * const native = loadNativeBackend({ threads: 1 });
 * const x = randn([64, 64], new Rng(0), { backend: native ?? refBackend });
 */
export function loadNativeBackend(opts: NativeOptions = {}): NativeBackend | null {
  const threads = threadsFrom(opts);
  if (addon === undefined) {
    const root = packageRoot();
    try {
      addon = requireAddon(root, opts.addonPath);
    } catch (e) {
      addon = null;
      if (!warned) {
        warned = true;
        const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
        console.warn(`qkv: native backend unavailable (${reason}); using the ref backend. ${buildHint(root)}`);
      }
    }
  }
  if (!addon) return null;
  addon.setThreads(threads);
  // One backend object per flavour, so tensors made by two calls share a backend.
  const fused = opts.fused ?? true;
  let backend = backends.get(fused);
  if (!backend) {
    backend = createNativeBackend(addon, { fused });
    backends.set(fused, backend);
  }
  return backend;
}

/**
 * Makes native the default backend when it loads, else leaves ref; returns the one chosen. The Node
 * entry point (src/node/index.ts) calls this once at import; tests that want ref pass it explicitly.
 *
 * @example
 * const backend = installDefaultBackend({ threads: 2 });
 * console.log(backend.name); // 'native' or 'ref'
 */
export function installDefaultBackend(opts: NativeOptions = {}): Backend {
  const backend = loadNativeBackend(opts) ?? refBackend;
  setDefaultBackend(backend);
  return backend;
}
