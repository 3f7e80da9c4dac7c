"""Self-checks of the PyTorch twin, run by test/twin/twin.test.ts (torch 1.13, CPU, a few seconds).

Reads {"lengths": [...], "maxTokens": N} on stdin and prints JSON:
  plan          plan_batches(lengths, maxTokens) without shuffling (the test compares it with qkv's planBatches)
  cacheMaxDiff  largest |logit| difference between incremental decoding (decode_step, the KV cache) and
                the full causal decoder, over post-norm and pre-norm random models
  cacheSameTokens  whether beam search with and without the cache picks the same tokens
"""
import json
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_twin import plan_batches  # noqa: E402
from twin_decode import beam_search, pad_rows  # noqa: E402
from twin_models import build_model  # noqa: E402


def cache_checks():
    worst, same = 0.0, True
    for norm_first in (False, True):
        torch.manual_seed(3)
        m = build_model({"kind": "transformer", "srcVocab": 23, "tgtVocab": 23, "dModel": 16, "heads": 2, "encoderLayers": 2,
                         "decoderLayers": 2, "dFF": 32, "dropout": 0.1, "activation": "relu", "positional": "sinusoidal",
                         "maxLen": 64, "shareEmbeddings": True, "eps": 1e-5, "normFirst": norm_first, "finalNorm": norm_first}).eval()
        src, pad = pad_rows([[5, 6, 7, 8, 9], [10, 11], [12, 13, 14]], 0)
        tgt = torch.randint(3, 23, (3, 9))
        with torch.no_grad():
            memory = m.encode(src, pad)
            full = m.decode(tgt, memory, pad)  # [B, T, V]
            cache = m.start_cache(memory, pad)
            steps = torch.stack([m.decode_step(cache, tgt[:, t]) for t in range(tgt.size(1))], 1)
        worst = max(worst, float((full - steps).abs().max()))
        a = beam_search(m, src, pad, 1, 2, 12, 3, 0.6, use_cache=True)
        b = beam_search(m, src, pad, 1, 2, 12, 3, 0.6, use_cache=False)
        same = same and a == b
    return worst, same


def main():
    torch.set_num_threads(1)
    req = json.load(sys.stdin)
    worst, same = cache_checks()
    print(json.dumps({"plan": plan_batches(req["lengths"], req["maxTokens"]), "cacheMaxDiff": worst, "cacheSameTokens": same}))


if __name__ == "__main__":
    main()
