"""Golden fixtures for src/optim: PyTorch runs 20 optimizer steps on a tiny MLP and records each loss.

Run: /usr/bin/python3 scripts/gen_optim_golden.py   (writes test/fixtures/optim/golden.json)

The problem: y = tanh(x·W1ᵀ + b1)·W2ᵀ + b2 with an MSE loss against fixed targets. Inputs, targets
and the initial parameters go into the fixture, so the TypeScript test needs no torch RNG.
"""
import json
import math
import os

import torch

STEPS = 20
torch.manual_seed(1234)
X = torch.randn(8, 4)
Y = torch.randn(8, 3) * 2.0  # large enough that Adam+clip actually clips
INIT = {
    'w1': torch.randn(6, 4) * 0.5,
    'b1': torch.randn(6) * 0.1,
    'w2': torch.randn(3, 6) * 0.5,
    'b2': torch.randn(3) * 0.1,
}
NAMES = ['w1', 'b1', 'w2', 'b2']


def noam(step, d_model, warmup, factor=1.0):
    # The paper's eq. 3, step counted from 1.
    return factor * d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5)


def loss_of(p):
    pred = torch.tanh(X @ p['w1'].T + p['b1']) @ p['w2'].T + p['b2']
    return torch.nn.functional.mse_loss(pred, Y)


def run(make_opt, lr_at=None, clip=None):
    p = {k: v.clone().requires_grad_(True) for k, v in INIT.items()}
    opt = make_opt([p[k] for k in NAMES])
    losses, norms = [], []
    for step in range(1, STEPS + 1):
        if lr_at is not None:
            for g in opt.param_groups:
                g['lr'] = lr_at(step)
        opt.zero_grad(set_to_none=True)
        loss = loss_of(p)
        loss.backward()
        if clip is not None:
            norms.append(float(torch.nn.utils.clip_grad_norm_([p[k] for k in NAMES], clip)))
        losses.append(float(loss))
        opt.step()
    out = {'losses': losses, 'final': {k: p[k].detach().reshape(-1).tolist() for k in NAMES}}
    if clip is not None:
        out['gradNorms'] = norms
    return out


CASES = {
    'adam': dict(make_opt=lambda ps: torch.optim.Adam(ps, lr=0.01, foreach=False)),
    'adam_l2': dict(make_opt=lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1, foreach=False)),
    'adamw': dict(make_opt=lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.01, foreach=False)),
    'adam_paper_noam': dict(
        make_opt=lambda ps: torch.optim.Adam(ps, lr=0.0, betas=(0.9, 0.98), eps=1e-9, foreach=False),
        lr_at=lambda s: noam(s, 16, 5, 1.0),
    ),
    'sgd_momentum': dict(make_opt=lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01, foreach=False)),
    'sgd_nesterov': dict(make_opt=lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, foreach=False)),
    'adam_clip': dict(make_opt=lambda ps: torch.optim.Adam(ps, lr=0.01, foreach=False), clip=0.5),
}

fixture = {
    'about': 'scripts/gen_optim_golden.py, torch ' + torch.__version__,
    'steps': STEPS,
    'x': X.reshape(-1).tolist(), 'xShape': list(X.shape),
    'y': Y.reshape(-1).tolist(), 'yShape': list(Y.shape),
    'init': {k: INIT[k].reshape(-1).tolist() for k in NAMES},
    'shapes': {k: list(INIT[k].shape) for k in NAMES},
    'cases': {name: run(**cfg) for name, cfg in CASES.items()},
}
clipped = sum(n > 0.5 for n in fixture['cases']['adam_clip']['gradNorms'])
assert clipped >= 5, f'adam_clip clipped only {clipped} steps; raise the targets'
for name, case in fixture['cases'].items():
    assert all(math.isfinite(l) for l in case['losses']), name

path = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'optim', 'golden.json')
with open(path, 'w') as f:
    json.dump(fixture, f, indent=1)
    f.write('\n')
print('wrote', os.path.normpath(path), 'clipped steps:', clipped)
for name, case in fixture['cases'].items():
    print(f"{name:16s} loss {case['losses'][0]:.4f} -> {case['losses'][-1]:.4f}")
