// What `require('qkv')` gets: qkv is an ES module package, so one clear error instead of a broken load.
'use strict';

const err = new Error("qkv is ESM-only: load it with `import { Transformer } from 'qkv'`, or from CommonJS with `const qkv = await import('qkv')`");
err.code = 'ERR_REQUIRE_ESM';
throw err;
