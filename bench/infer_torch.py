# The PyTorch twin of bench/infer-worker.ts: GPT forward tokens/s at batch 32 and 1 (context 128, no_grad)
# and batch-1 greedy generation of 100 tokens, both by re-running the model on the growing prefix and
# with a small hand-written KV cache over the same layers' weights; one JSON line out.
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from train_torch import GPT  # noqa: E402


def time_it(f, budget):
    f()
    times = []
    start = time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def generate_uncached(model, n):
    ids = [1]
    for _ in range(n):
        logits = model(torch.tensor([ids]))
        ids.append(int(logits[0, -1].argmax()))
    return ids[1:]


def generate_cached(model, n):
    """Greedy decoding with keys and values of past positions kept per layer (pre-norm blocks, as GPT)."""
    ids = [1]
    H = model.layers[0].self_attn.num_heads
    D = model.wte.weight.shape[1]
    K = D // H
    cache = [(torch.empty(1, H, 0, K), torch.empty(1, H, 0, K)) for _ in model.layers]
    for pos in range(n):
        x = model.wte.weight[ids[-1]].view(1, 1, D) + model.wpe.weight[pos]
        for i, layer in enumerate(model.layers):
            a = layer.self_attn
            q, k, v = F.linear(layer.norm1(x), a.in_proj_weight, a.in_proj_bias).view(1, 1, 3, H, K).permute(2, 0, 3, 1, 4)
            ck, cv = torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2)
            cache[i] = (ck, cv)
            w = torch.softmax(q @ ck.transpose(-1, -2) / math.sqrt(K), -1)  # [1, H, 1, t]
            x = x + a.out_proj((w @ cv).transpose(1, 2).reshape(1, 1, D))
            x = x + layer.linear2(F.gelu(layer.linear1(layer.norm2(x))))
        logits = model.norm(x) @ model.wte.weight.t()
        ids.append(int(logits[0, -1].argmax()))
    return ids[1:]


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
    torch.manual_seed(0)
    model = GPT().eval()
    g = torch.Generator().manual_seed(99)
    out = {}
    with torch.no_grad():
        for B, key, budget in ((32, "forward32", seconds), (1, "forward1", seconds / 2)):
            ids = torch.randint(0, 96, (B, 128), generator=g)
            out[key] = B * 128 / time_it(lambda: model(ids), budget)
        tokens = {}

        def run(kind):
            tokens[kind] = (generate_cached if kind == "cached" else generate_uncached)(model, n)

        out["generate"] = n / time_it(lambda: run("cached"), seconds / 2)
        out["generateNoCache"] = n / time_it(lambda: run("uncached"), seconds / 2)
        out["cacheAgrees"] = int(tokens["cached"] == tokens["uncached"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
