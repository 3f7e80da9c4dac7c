"""Golden fixtures for additive (float) attention masks: PyTorch computes softmax(q·kᵀ/√d + mask)·v by hand.

Run: /usr/bin/python3 scripts/gen_mask_golden.py   (writes test/fixtures/mask/additive.json)

torch 1.13 has no F.scaled_dot_product_attention, so the attention is written out as PyTorch's
nn.MultiheadAttention applies a float attn_mask: added to the scaled scores before the softmax.
float64 throughout; -Infinity entries of a mask are written as null (JSON has no infinities).
Each case has q, k, v, the mask, the output, the weights, and the gradients of sum(output · g).
"""
import json
import math
import os

import torch

torch.manual_seed(14)
torch.set_default_dtype(torch.float64)


def attention(q, k, v, mask):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]) + mask
    w = torch.softmax(scores, dim=-1)
    return w @ v, w


def alibi(heads, t, s):
    # ALiBi's bias: -m_h · (distance to the key), slopes 2^(-8h/H).
    slopes = torch.tensor([2 ** (-8 * (h + 1) / heads) for h in range(heads)])
    dist = (torch.arange(s)[None, :] - torch.arange(t)[:, None] - (s - t)).abs()
    return -slopes[:, None, None] * dist[None].double()


def rounded(x):
    return [None if math.isinf(v) else float(f'{v:.12g}') for v in x.flatten().tolist()]


def case(name, q, k, v, mask):
    q, k, v = (x.clone().requires_grad_(True) for x in (q, k, v))
    out, w = attention(q, k, v, mask)
    g = torch.linspace(-1, 1, out.numel()).reshape(out.shape)
    (out * g).sum().backward()
    return {
        'name': name,
        'q': {'shape': list(q.shape), 'data': rounded(q.detach())},
        'k': {'shape': list(k.shape), 'data': rounded(k.detach())},
        'v': {'shape': list(v.shape), 'data': rounded(v.detach())},
        'mask': {'shape': list(mask.shape), 'data': rounded(mask)},
        'output': rounded(out.detach()),
        'weights': rounded(w.detach()),
        'outGrad': rounded(g),
        'dq': rounded(q.grad),
        'dk': rounded(k.grad),
        'dv': rounded(v.grad),
    }


cases = []
# The audit's case (issue 14): one query, two equal keys, a bias of -0.5 on the second.
one = torch.tensor([[[1.0, 0.0]]])
two = torch.tensor([[[1.0, 0.0], [1.0, 0.0]]])
cases.append(case('audit: mask [[0, -0.5]]', one, two, two, torch.tensor([[0.0, -0.5]])))
# ALiBi over 2 heads, 3 queries, 5 keys, broadcast over the batch: [H, T, S] against [B, H, T, S].
B, H, T, S, K = 2, 2, 3, 5, 4
cases.append(case('alibi [H, T, S]', torch.randn(B, H, T, K), torch.randn(B, H, S, K), torch.randn(B, H, S, 3), alibi(H, T, S)))
# A bias with -Infinity entries (a float causal mask plus a bias), [T, S] broadcast.
bias = torch.randn(T, S) * 0.7
bias[0, 3:] = -math.inf
bias[1, 4] = -math.inf
cases.append(case('bias with -inf [T, S]', torch.randn(B, T, K), torch.randn(B, S, K), torch.randn(B, S, 2), bias))

out = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'mask', 'additive.json')
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, 'w') as f:
    json.dump({'torch': torch.__version__.split('+')[0], 'cases': cases}, f, indent=1)
    f.write('\n')
print(f'wrote {out}: {len(cases)} cases')
