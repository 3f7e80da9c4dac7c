// The pipeline API as a user's five-line script: node --import tsx examples/pipeline.mjs <g2p checkpoint or run folder> [WORD]
import { pipeline } from '../src/node/index.js'; // in a project that installed qkv: from 'qkv'

const g2p = await pipeline('g2p', process.argv[2] ?? 'runs/demo');
console.log(await g2p(process.argv[3] ?? 'HELLO'));
