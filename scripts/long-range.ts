// Claim 2 of docs/claims.md, long-range dependencies: retrieval at a distance, Transformer (GPT) against LSTM.
//
//   node --import tsx scripts/long-range.ts [--distances 16,64,256,512] [--steps 400] [--batch 32] [--json out.json]
//
// A sequence is [a, x_1, ..., x_{d-1}, ?]: a and the x are drawn uniformly from V = 16 symbols, ? is a query
// token; the answer at ? is a, the token d positions back. Each model reads the sequence and predicts at the
// last position only (cross-entropy on that one token); chance is 1/16. Both models have about the same number
// of parameters (the LSTM's hidden size is chosen to match the GPT at each d, positions included) and the same
// budget: the same steps of the same batches (seeded), Adam 1e-3 after 50 warm-up steps, gradients clipped to 1.
// Accuracy on 512 held-out sequences of another seed; seconds of training are reported beside it.

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Adam, Embedding, GPT, LSTM, Linear, Module, Rng, clipGradNorm, crossEntropy, installDefaultBackend, noGrad, tensor, withStorageScope } from '../src/node/index.js';
import type { Tensor } from '../src/node/index.js';

const V = 16;
const QUERY = V;

const { values } = parseArgs({ options: {
  distances: { type: 'string', default: '16,64,256,512' }, steps: { type: 'string', default: '400' },
  batch: { type: 'string', default: '32' }, json: { type: 'string' }, models: { type: 'string', default: 'gpt,lstm' },
} });
const distances = values.distances.split(',').map(Number);
const steps = Number(values.steps);
const B = Number(values.batch);
installDefaultBackend();

/** B sequences at distance d: ids [B, d + 1] and the answers [B]. */
function batch(rng: Rng, n: number, d: number): { ids: Tensor; answers: Tensor } {
  const ids = new Int32Array(n * (d + 1));
  const answers = new Int32Array(n);
  for (let b = 0; b < n; b++) {
    for (let t = 0; t < d; t++) ids[b * (d + 1) + t] = rng.int(V);
    ids[b * (d + 1) + d] = QUERY;
    answers[b] = ids[b * (d + 1)];
  }
  return { ids: tensor(ids, { shape: [n, d + 1], dtype: 'int32' }), answers: tensor(answers, { shape: [n], dtype: 'int32' }) };
}

/** What both models offer: scores of the answer [B, V + 1] from ids [B, T]. */
interface Reader extends Module { read(ids: Tensor): Tensor }

class GPTReader extends Module implements Reader {
  readonly gpt: GPT;
  constructor(d: number) {
    super();
    this.gpt = this.addModule('gpt', new GPT({ vocab: V + 1, dModel: 64, heads: 4, layers: 2, dFF: 256, context: d + 1, dropout: 0, seed: 1 }));
  }
  read(ids: Tensor): Tensor {
    const T = ids.shape[1];
    return this.gpt.forward(ids).logits.narrow(1, T - 1, 1).reshape([ids.shape[0], V + 1]);
  }
}

class LSTMReader extends Module implements Reader {
  readonly embed: Embedding;
  readonly lstm: LSTM;
  readonly head: Linear;
  constructor(readonly hidden: number) {
    super();
    const rng = new Rng(1);
    this.embed = this.addModule('embed', new Embedding(V + 1, 64, { rng }));
    this.lstm = this.addModule('lstm', new LSTM(64, hidden, { layers: 2, rng }));
    this.head = this.addModule('head', new Linear(hidden, V + 1, { rng }));
  }
  read(ids: Tensor): Tensor {
    const { h } = this.lstm.forward(this.embed.forward(ids)); // h [layers, B, H]
    return this.head.forward(h.narrow(0, 1, 1).reshape([ids.shape[0], this.hidden]));
  }
}

const count = (m: Module) => m.parameters().reduce((s, p) => s + p.size, 0);

/** The LSTM hidden size whose parameter count is nearest the target. */
function matchedHidden(target: number): number {
  let best = 8, bestGap = Infinity;
  for (let h = 8; h <= 1024; h++) {
    const gap = Math.abs(count(new LSTMReader(h)) - target);
    if (gap < bestGap) [best, bestGap] = [h, gap];
    else break; // the count grows with h: past the nearest, every gap is larger
  }
  return best;
}

function trainAndScore(model: Reader, d: number): { accuracy: number; seconds: number; finalLoss: number } {
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const rng = new Rng(7 + d);
  model.train();
  let loss = NaN;
  const t0 = performance.now();
  for (let s = 1; s <= steps; s++) {
    opt.lr = 1e-3 * Math.min(1, s / 50);
    const { ids, answers } = batch(rng, B, d);
    loss = withStorageScope(ids.backend, () => {
      const l = crossEntropy(model.read(ids), answers);
      l.backward();
      clipGradNorm(model.parameters(), 1);
      opt.step();
      opt.zeroGrad();
      return l.item();
    }, () => opt.liveTensors());
  }
  const seconds = (performance.now() - t0) / 1000;
  model.eval();
  const held = new Rng(99_999);
  let right = 0;
  for (let k = 0; k < 16; k++) {
    const { ids, answers } = batch(held, 32, d);
    const scores = noGrad(() => model.read(ids)).toArray();
    const want = answers.toArray();
    for (let b = 0; b < 32; b++) {
      let arg = 0;
      for (let v = 1; v <= V; v++) if (scores[b * (V + 1) + v] > scores[b * (V + 1) + arg]) arg = v;
      right += arg === want[b] ? 1 : 0;
    }
  }
  return { accuracy: right / 512, seconds, finalLoss: loss };
}

const rows: { d: number; model: string; params: number; accuracy: number; seconds: number; finalLoss: number }[] = [];
for (const d of distances) {
  const gpt = new GPTReader(d);
  const target = count(gpt);
  for (const name of values.models.split(',')) {
    const model = name === 'gpt' ? gpt : new LSTMReader(matchedHidden(target));
    const r = trainAndScore(model, d);
    rows.push({ d, model: name === 'gpt' ? 'Transformer (GPT, d 64, 2 layers)' : `LSTM (2 layers, hidden ${(model as LSTMReader).hidden})`, params: count(model), ...r });
    const last = rows.at(-1)!;
    console.log(`d ${d}  ${last.model.padEnd(34)}  ${last.params} parameters  accuracy ${(100 * last.accuracy).toFixed(1)}%  loss ${last.finalLoss.toFixed(3)}  ${last.seconds.toFixed(0)} s`);
  }
}
console.log(`\n| distance d | model | parameters | held-out accuracy | training seconds |\n|---:|---|---:|---:|---:|`);
for (const r of rows) console.log(`| ${r.d} | ${r.model} | ${r.params.toLocaleString('en-US')} | ${(100 * r.accuracy).toFixed(1)}% | ${r.seconds.toFixed(0)} |`);
console.log(`\n${steps} steps of ${B} sequences each; chance ${(100 / V).toFixed(1)}%`);
if (values.json) writeFileSync(values.json, JSON.stringify({ steps, batch: B, vocab: V, rows }, null, 2) + '\n');
