"""Golden fixture for src/nn/lstm.ts: torch.nn.LSTM's outputs, final states and gradients.

Run: /usr/bin/python3 scripts/gen_lstm_golden.py   (writes test/fixtures/golden/lstm.json; torch 1.13)

The file holds a list of cases, each with
  config               inputSize, hiddenSize, layers, bidirectional, lengths (null: every row has length T), and
                       whether (h0, c0) are given
  params               weight_ih_lN, weight_hh_lN, bias_ih_lN, bias_hh_lN (and _reverse ones), torch's state_dict names
  inputs               x [B, T, I], and h0, c0 [L, B, H] when given
  R, Rh, Rc            the loss weights: loss = sum(output * R) + sum(h_n * Rh) + sum(c_n * Rc)
  output, h_n, c_n     the forward results (output zero past each row's length, as pad_packed_sequence gives)
  grad                 d loss / d every parameter and every float input
Every array is {shape, data}. With lengths, torch runs a packed sequence (pack_padded_sequence, unsorted lengths).

Parameters and inputs are drawn in float32 (written with the shortest decimal that reads back as that float32),
then torch computes in float64 from those exact values, so the fixture holds the true answer rather than one
float32 rounding of it; results are written with 12 significant digits.
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'golden', 'lstm.json')


def f32(t):
    """Rounds to float32, kept as float64: the exact values both sides start from."""
    return t.to(torch.float32).to(torch.float64)


def arr32(t):
    """Inputs: float32 values, written so that parsing and rounding to float32 gives them back exactly."""
    t = t.detach().to(torch.float32).contiguous()
    return {'shape': list(t.shape), 'data': [float(repr(np.float32(v))) for v in t.reshape(-1).tolist()]}


def arr64(t):
    """Results: float64, 12 significant digits (far below the tests' 1e-5 tolerance)."""
    t = t.detach().to(torch.float64).contiguous()
    return {'shape': list(t.shape), 'data': [float(f'{v:.12g}') for v in t.reshape(-1).tolist()]}


def case(name, gen, I, H, L, B, T, lengths, given_initial, bidirectional=False):
    lstm = nn.LSTM(I, H, num_layers=L, batch_first=True, bidirectional=bidirectional).to(torch.float64)
    D = 2 if bidirectional else 1
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(f32(torch.rand(p.shape, generator=gen, dtype=torch.float64) * 1.6 - 0.8))
    x = f32(torch.randn(B, T, I, generator=gen, dtype=torch.float64)).requires_grad_()
    h0 = f32(0.5 * torch.randn(L * D, B, H, generator=gen, dtype=torch.float64)).requires_grad_() if given_initial else None
    c0 = f32(0.5 * torch.randn(L * D, B, H, generator=gen, dtype=torch.float64)).requires_grad_() if given_initial else None
    initial = (h0, c0) if given_initial else None
    if lengths is None:
        out, (h_n, c_n) = lstm(x, initial)
    else:
        packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
        out_p, (h_n, c_n) = lstm(packed, initial)
        out, _ = nn.utils.rnn.pad_packed_sequence(out_p, batch_first=True, total_length=T)
    R = f32(torch.randn(out.shape, generator=gen, dtype=torch.float64))
    Rh = f32(torch.randn(h_n.shape, generator=gen, dtype=torch.float64))
    Rc = f32(torch.randn(c_n.shape, generator=gen, dtype=torch.float64))
    loss = (out * R).sum() + (h_n * Rh).sum() + (c_n * Rc).sum()
    loss.backward()
    inputs = {'x': x} if not given_initial else {'x': x, 'h0': h0, 'c0': c0}
    grad = {k: arr64(p.grad) for k, p in lstm.named_parameters()}
    grad.update({k: arr64(v.grad) for k, v in inputs.items()})
    return {
        'name': name,
        'config': {'inputSize': I, 'hiddenSize': H, 'layers': L, 'bidirectional': bidirectional, 'lengths': lengths, 'initial': given_initial},
        'params': {k: arr32(p) for k, p in lstm.named_parameters()},
        'inputs': {k: arr32(v) for k, v in inputs.items()},
        'R': arr32(R), 'Rh': arr32(Rh), 'Rc': arr32(Rc),
        'output': arr64(out), 'h_n': arr64(h_n), 'c_n': arr64(c_n), 'loss': float(f'{loss.item():.12g}'),
        'grad': grad,
    }


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(18)
    cases = [
        # Two layers, unsorted lengths (one row shorter than the others by 3 steps), given (h0, c0).
        case('two layers, lengths, initial state', gen, I=2, H=3, L=2, B=3, T=5, lengths=[5, 2, 4], given_initial=True),
        # One layer, full lengths, zero initial state.
        case('one layer, no lengths, zero state', gen, I=3, H=2, L=1, B=2, T=3, lengths=None, given_initial=False),
        # Bidirectional, two layers (layer 1 reads both directions), unsorted lengths, given (h0, c0).
        case('bidirectional, two layers, lengths, initial state', gen, I=2, H=2, L=2, B=3, T=4, lengths=[2, 4, 3], given_initial=True, bidirectional=True),
    ]
    with open(OUT, 'w') as f:
        json.dump({'generator': 'scripts/gen_lstm_golden.py', 'torch': torch.__version__.split('+')[0], 'cases': cases}, f, separators=(',', ':'))
        f.write('\n')
    print(f'{OUT}: {len(cases)} cases, {os.path.getsize(OUT)} bytes')


if __name__ == '__main__':
    main()
