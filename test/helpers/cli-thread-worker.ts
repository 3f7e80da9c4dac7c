// The worker side of cli-thread.ts: runs main() for each message and sends back its exit code and output.

import { parentPort } from 'node:worker_threads';
import { main } from '../../src/cli/main.js';

process.stdout.setMaxListeners(1000); // main() listens for EPIPE on each call

parentPort!.on('message', async (args: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((s: string | Uint8Array) => { out.push(String(s)); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => { err.push(String(s)); return true; }) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(args);
  } catch (e) {
    err.push(`uncaught: ${(e as Error).stack ?? String(e)}`);
    code = -1;
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
  parentPort!.postMessage({ code, stdout: out.join(''), stderr: err.join('') });
});
