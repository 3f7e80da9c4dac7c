"""Golden fixtures for src/models/gpt.ts: a PyTorch twin of our GPT (token + learned position
embeddings, nn.TransformerEncoderLayer blocks under a causal mask, final LayerNorm, tied or untied
output projection) records logits, per-head attention weights, the loss and every gradient.

Run: /usr/bin/python3 scripts/gen_golden_gpt.py   (writes test/fixtures/golden/gpt_*.safetensors; torch 1.13)

The layout of each fixture is gen_golden.py's (parameters under qkv's names, @in.*, @out, @attn.*,
@loss, @grad.*), with a JSON `case` in the metadata. Values are drawn in float32 and the reference
is computed in float64.
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_golden import causal, finish_model, padding, randomize, record_attention  # noqa: E402

D, H, L, V, CTX, B, T = 16, 4, 2, 13, 8, 2, 6
LENS = [6, 4]
PAD = 0


class RefGPT(nn.Module):
    def __init__(self, norm_first, final_norm, tie, act):
        super().__init__()
        self.wte = nn.Embedding(V, D)
        self.wpe = nn.Embedding(CTX, D)  # its `weight` is our wpe.weight
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(D, H, 4 * D, dropout=0.0, activation=act, batch_first=True, norm_first=norm_first)
            for _ in range(L)])
        self.norm = nn.LayerNorm(D) if final_norm else None
        self.lm_head = nn.Linear(D, V, bias=False)
        if tie:
            self.lm_head.weight = self.wte.weight

    def forward(self, ids, kpm):
        n = ids.shape[1]
        x = self.wte(ids) + self.wpe.weight[:n]
        for layer in self.layers:
            x = layer(x, src_mask=causal(n), src_key_padding_mask=kpm)
        if self.norm is not None:
            x = self.norm(x)
        return self.lm_head(x)


def main():
    cases = [
        # GPT-2: pre-norm, final LayerNorm, output projection tied to the token embeddings.
        ('gpt_pre_tied', dict(norm_first=True, final_norm=True, tie=True, act='gelu')),
        # GPT-1: post-norm blocks, no final norm; here also an untied head.
        ('gpt_post_untied', dict(norm_first=False, final_norm=False, tie=False, act='gelu')),
    ]
    for i, (name, c) in enumerate(cases):
        gen = torch.Generator().manual_seed(300 + i)
        model = RefGPT(**c).double().train()
        randomize(model, gen)
        store = {}
        record_attention(model, store)
        ids = torch.randint(1, V, (B, T + 1), generator=gen)
        for b in range(B):
            ids[b, LENS[b] + 1:] = PAD
        ids_in, ids_out = ids[:, :-1], ids[:, 1:]
        logits = model(ids_in, padding(LENS, T))
        loss = F.cross_entropy(logits.reshape(-1, V), ids_out.reshape(-1), ignore_index=PAD)
        case = {'kind': 'gpt', 'vocab': V, 'dModel': D, 'heads': H, 'layers': L, 'context': CTX,
                'normFirst': c['norm_first'], 'finalNorm': c['final_norm'], 'tieEmbeddings': c['tie'],
                'activation': c['act'], 'pad': PAD, 'lens': LENS}
        finish_model(f'{name}.safetensors', case, model, {'ids_in': ids_in, 'ids_out': ids_out}, logits, loss, store)


if __name__ == '__main__':
    torch.set_num_threads(1)
    main()
