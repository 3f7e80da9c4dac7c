// Whether the suite runs under CI, where a missing tool is a failure instead of a skip.

/**
 * True when the CI environment variable is set to anything but '', 'false' or '0' (CI services and
 * .ci/run set CI=true). Tests that skip when a tool is missing (torch, the native addon) fail instead.
 *
 * @example
 * test('torch imports', (t) => { if (!hasTorch && !underCi) return t.skip('no torch'); assert.ok(hasTorch); });
 */
export const underCi: boolean = !['', 'false', '0'].includes(process.env.CI ?? '');
