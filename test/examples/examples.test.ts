// Every runnable example in examples/ runs to the end without an error, so none can go stale.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const examples = readdirSync(`${root}examples`).filter((f) => f.endsWith('.ts')).sort();

test('examples/ holds runnable examples', () => {
  assert.ok(examples.length >= 2, `found ${examples.join(', ')}`);
});

for (const file of examples) {
  test(`examples/${file} runs to the end`, () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', `examples/${file}`], {
      cwd: root, encoding: 'utf8', timeout: 120_000,
    });
    assert.equal(r.error, undefined, `examples/${file}: ${r.error?.message}`);
    assert.equal(r.status, 0, `examples/${file} exited with ${r.status}:\n${r.stderr.slice(-2000)}`);
    assert.ok(r.stdout.trim().length > 0, `examples/${file} printed nothing`);
  });
}
