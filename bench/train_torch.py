# The PyTorch twins of bench/models.ts (GPT and S2S): one training measurement per process, one JSON line out.
# Run by bench/train.ts with OMP_WAIT_POLICY=PASSIVE; by hand: python3 bench/train_torch.py gpt 10 2
import json
import math
import resource
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F


class GPT(nn.Module):
    """Embeddings + TransformerEncoderLayer(norm_first, gelu) x L under a causal mask + final LayerNorm + tied head."""

    def __init__(self, vocab=96, d=128, heads=4, layers=4, d_ff=512, context=128):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(context, d)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(d, heads, d_ff, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
            for _ in range(layers)
        )
        self.norm = nn.LayerNorm(d)
        with torch.no_grad():  # GPT-2's N(0, 0.02) embeddings, as qkv's GPT (keeps the tied logits small)
            self.wte.weight.normal_(0, 0.02)
            self.wpe.weight.normal_(0, 0.02)

    def forward(self, ids):
        T = ids.shape[1]
        x = self.wte(ids) + self.wpe(torch.arange(T))
        mask = torch.triu(torch.full((T, T), float("-inf")), 1)
        for layer in self.layers:
            x = layer(x, src_mask=mask)
        return self.norm(x) @ self.wte.weight.t()


class S2S(nn.Module):
    """nn.Transformer (post-norm, relu, final norms) with scaled embeddings, sinusoidal positions and a generator."""

    def __init__(self, vocab=64, d=256, heads=4, layers=3, d_ff=1024, max_len=64):
        super().__init__()
        self.d = d
        self.src_embed = nn.Embedding(vocab, d)
        self.tgt_embed = nn.Embedding(vocab, d)
        pos = torch.arange(max_len).unsqueeze(1)
        div = torch.exp(torch.arange(0, d, 2) * (-math.log(10000.0) / d))
        pe = torch.zeros(max_len, d)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        self.register_buffer("pe", pe)
        self.transformer = nn.Transformer(d, heads, layers, layers, d_ff, dropout=0.0, batch_first=True)
        self.generator = nn.Linear(d, vocab)

    def forward(self, src, tgt):
        S, T = src.shape[1], tgt.shape[1]
        s = self.src_embed(src) * math.sqrt(self.d) + self.pe[:S]
        t = self.tgt_embed(tgt) * math.sqrt(self.d) + self.pe[:T]
        mask = torch.triu(torch.full((T, T), float("-inf")), 1)
        return self.generator(self.transformer(s, t, tgt_mask=mask))


def main():
    name, steps, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    g = torch.Generator().manual_seed(1234)
    if name == "gpt":
        B, T, V = 32, 128, 96
        model = GPT()
        ids = [torch.randint(0, V, (B, T + 1), generator=g) for _ in range(steps + warmup)]
        batches = [(x[:, :-1].contiguous(), x[:, 1:].contiguous()) for x in ids]
        tokens = B * T

        def loss_of(b):
            return F.cross_entropy(model(b[0]).reshape(-1, V), b[1].reshape(-1))
    else:
        B, L, V = 64, 32, 64
        model = S2S()
        batches = []
        for _ in range(steps + warmup):
            src = torch.randint(0, V, (B, L), generator=g)
            tgt = torch.randint(0, V, (B, L + 1), generator=g)
            batches.append((src, tgt[:, :-1].contiguous(), tgt[:, 1:].contiguous()))
        tokens = B * 2 * L  # source plus target tokens, as bench/models.ts counts them

        def loss_of(b):
            return F.cross_entropy(model(b[0], b[1]).reshape(-1, V), b[2].reshape(-1))
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    times = []
    loss = float("nan")
    for i, b in enumerate(batches):
        t0 = time.perf_counter()
        l = loss_of(b)
        l.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss = l.item()
        dt = time.perf_counter() - t0
        if i >= warmup:
            times.append(dt)
    med = sorted(times)[len(times) // 2] if len(times) % 2 else sum(sorted(times)[len(times) // 2 - 1:len(times) // 2 + 1]) / 2
    print(json.dumps({
        "tokensPerSec": tokens / med,
        "meanTokensPerSec": tokens * steps / sum(times),
        "stepMs": med * 1000,
        "maxRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "baseRssMiB": base_rss,
        "loss": loss,
    }))


if __name__ == "__main__":
    main()
