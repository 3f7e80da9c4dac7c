// Wall time per backend method inside real training steps (each method wrapped in a timer; about 1 µs a call),
// for finding what a step spends outside the products. Not a test: node --import tsx bench/op-times.ts [gpt|s2s] [steps]
import { trainSetup } from './models.js';
import { defaultBackend } from '../src/tensor/index.js';
const name = (process.argv[2] ?? 'gpt') as any, steps = Number(process.argv[3] ?? 8);
const setup = trainSetup(name, steps + 2);
const be: any = defaultBackend();
const acc = new Map<string, [number, number]>();
for (const k of Object.keys(be)) {
  const f = be[k];
  if (typeof f !== 'function' || ['threads', 'name'].includes(k)) continue;
  be[k] = function (...a: unknown[]) {
    const t0 = performance.now();
    const r = f.apply(this, a);
    const e = acc.get(k) ?? [0, 0]; e[0] += performance.now() - t0; e[1]++; acc.set(k, e);
    return r;
  };
}
for (let i = 0; i < 2; i++) setup.step(setup.batches[i]);
acc.clear();
const t0 = performance.now();
for (let i = 2; i < steps + 2; i++) setup.step(setup.batches[i]);
const total = (performance.now() - t0) / steps;
let sum = 0;
for (const [k, [ms, n]] of [...acc].sort((a, b) => b[1][0] - a[1][0])) { sum += ms / steps; if (ms / steps > 0.3) console.log(k.padEnd(22), (ms / steps).toFixed(1).padStart(7), 'ms/step', String(n / steps).padStart(6), 'calls'); }
console.log(`step ${total.toFixed(1)} ms (${(setup.tokens / total * 1000).toFixed(0)} tok/s); in backend ${sum.toFixed(1)} ms; outside ${(total - sum).toFixed(1)} ms`);
