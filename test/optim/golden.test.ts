// Every optimizer against PyTorch: 20 steps on a tiny MLP, loss at each step and final parameters.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../src/tensor/index.js';
import { Adam, AdamW, Optimizer, PAPER_ADAM, SGD, clipGradNorm, LrScheduler, noamSchedule } from '../../src/optim/index.js';
import { NAMES, golden, initParams, lossOf } from './mlp-problem.js';

const TOL = 1e-4;

function close(actual: number, expected: number, what: string): void {
  const err = Math.abs(actual - expected) / Math.max(1, Math.abs(expected));
  assert.ok(err <= TOL, `${what}: got ${actual}, PyTorch ${expected} (relative error ${err.toExponential(2)})`);
}

interface Run {
  make: (params: Tensor[]) => Optimizer;
  noam?: boolean;
  clip?: number;
}

const runs: Record<string, Run> = {
  adam: { make: (ps) => new Adam(ps, { lr: 0.01 }) },
  adam_l2: { make: (ps) => new Adam(ps, { lr: 0.01, weightDecay: 0.1 }) },
  adamw: { make: (ps) => new AdamW(ps, { lr: 0.01, weightDecay: 0.01 }) },
  adam_paper_noam: { make: (ps) => new Adam(ps, { lr: 0, ...PAPER_ADAM }), noam: true },
  sgd_momentum: { make: (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, weightDecay: 0.01 }) },
  sgd_nesterov: { make: (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true }) },
  adam_clip: { make: (ps) => new Adam(ps, { lr: 0.01 }), clip: 0.5 },
};

test('the fixture covers every run', () => {
  assert.deepEqual(Object.keys(golden.cases).sort(), Object.keys(runs).sort());
});

for (const [name, run] of Object.entries(runs)) {
  test(`${name} matches PyTorch for ${golden.steps} steps`, () => {
    const expected = golden.cases[name];
    const params = initParams();
    const ids = params.map((p) => p.storage);
    const opt = run.make(params);
    const sched = run.noam ? new LrScheduler(opt, noamSchedule({ dModel: 16, warmup: 5, factor: 1 })) : null;
    for (let step = 0; step < golden.steps; step++) {
      const loss = lossOf(params);
      loss.backward();
      if (run.clip !== undefined) close(clipGradNorm(params, run.clip), expected.gradNorms![step], `step ${step + 1} grad norm`);
      close(loss.item(), expected.losses[step], `step ${step + 1} loss`);
      opt.step();
      opt.zeroGrad();
      sched?.step();
    }
    params.forEach((p, i) => {
      assert.equal(p.storage, ids[i], 'parameters keep their storage');
      const got = p.toArray();
      expected.final[NAMES[i]].forEach((v, j) => close(got[j], v, `final ${NAMES[i]}[${j}]`));
    });
  });
}
