// The API reference (`npm run docs`, TypeDoc over the Node entry's doc comments) builds with no error
// and no warning (--treatWarningsAsErrors): a broken {@link}, a comment TypeDoc cannot read or a missing entry point fails here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('npm run docs: TypeDoc builds the API reference with 0 errors and 0 warnings', () => {
  const typedoc = `${root}node_modules/typedoc/bin/typedoc`;
  const r = spawnSync(process.execPath, [typedoc, '--emit', 'none', '--treatWarningsAsErrors'], { cwd: root, encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.error, undefined, r.error?.message);
  const out = (r.stdout + r.stderr).replace(/\x1b\[[0-9;]*m/g, '');
  assert.equal(r.status, 0, `typedoc exited with ${r.status}:\n${out.slice(-3000)}`);
});
