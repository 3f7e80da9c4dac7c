"""Writes PyTorch's answers to "can this strided tensor be viewed as that shape?" for qkv's reshapeLayout.

Run with /usr/bin/python3 from the repo root. Output: test/fixtures/view-rules/view-rules.json, a list of
  {"name", "shape", "strides", "offset", "target", "view": null | {"strides", "offset"}}
where shape/strides/offset describe the input view as torch lays it out, and "view" is what
torch.Tensor.view gives (null when torch raises because a copy would be needed).
"""

import json
import os
import random

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "view-rules")


def base(*shape):
    n = 1
    for d in shape:
        n *= d
    return torch.arange(n, dtype=torch.float32).reshape(shape)


def record(name, t, target):
    entry = {
        "name": name,
        "shape": list(t.shape),
        "strides": list(t.stride()),
        "offset": t.storage_offset(),
        "target": list(target),
    }
    try:
        v = t.view(tuple(target))
        entry["view"] = {"strides": list(v.stride()), "offset": v.storage_offset()}
    except RuntimeError:
        entry["view"] = None
    return entry


def hand_picked():
    x34 = base(3, 4)
    x234 = base(2, 3, 4)
    return [
        ("contiguous [3,4] -> [12]", x34, [12]),
        ("contiguous [3,4] -> [2,6]", x34, [2, 6]),
        ("transposed [3,4] -> [12]", x34.t(), [12]),
        ("transposed [3,4] -> [4,3] (same shape)", x34.t(), [4, 3]),
        ("transposed [3,4] -> [4,3,1]", x34.t(), [4, 3, 1]),
        ("transposed [3,4] -> [2,2,3]", x34.t(), [2, 2, 3]),
        ("transposed [3,4] -> [4,1,3]", x34.t(), [4, 1, 3]),
        ("narrowed columns [3,4][:,1:3] -> [6]", x34[:, 1:3], [6]),
        ("narrowed columns [3,4][:,1:3] -> [3,2,1]", x34[:, 1:3], [3, 2, 1]),
        ("narrowed rows [3,4][1:3] -> [8]", x34[1:3], [8]),
        ("narrowed rows [3,4][1:3] -> [2,2,2]", x34[1:3], [2, 2, 2]),
        ("permuted [2,3,4] (1,0,2) -> [3,8]", x234.permute(1, 0, 2), [3, 8]),
        ("permuted [2,3,4] (1,0,2) -> [3,2,2,2]", x234.permute(1, 0, 2), [3, 2, 2, 2]),
        ("permuted [2,3,4] (1,0,2) -> [6,4]", x234.permute(1, 0, 2), [6, 4]),
        ("permuted [2,3,4] (0,2,1) -> [2,12]", x234.permute(0, 2, 1), [2, 12]),
        ("permuted [2,3,4] (0,2,1) -> [8,3]", x234.permute(0, 2, 1), [8, 3]),
        ("permuted [2,3,4] (2,0,1) -> [4,6]", x234.permute(2, 0, 1), [4, 6]),
        ("expanded [4] -> [3,4] -> [12]", base(4).expand(3, 4), [12]),
        ("expanded [4] -> [3,4] -> [3,2,2]", base(4).expand(3, 4), [3, 2, 2]),
        ("expanded [3,1] -> [3,4] -> [3,2,2]", base(3, 1).expand(3, 4), [3, 2, 2]),
        ("expanded [3,1] -> [3,4] -> [12]", base(3, 1).expand(3, 4), [12]),
        ("unsqueezed transposed [4,1,3] -> [4,3]", x34.t().unsqueeze(1), [4, 3]),
        ("size-1 axes [1,3,1,4] transposed tail -> [3,4]", base(1, 4, 1, 3).permute(0, 3, 2, 1), [3, 4]),
        ("size-1 axes [1,3,1,4] transposed tail -> [1,12]", base(1, 4, 1, 3).permute(0, 3, 2, 1), [1, 12]),
        ("narrow with offset [5,6][2:4,1:5] -> [2,2,2]", base(5, 6)[2:4, 1:5], [2, 2, 2]),
        ("narrow with offset [5,6][2:4,1:5] -> [8]", base(5, 6)[2:4, 1:5], [8]),
        ("narrow with offset [5,6][2:3,1:5] -> [4]", base(5, 6)[2:3, 1:5], [4]),
        ("heads split [2,5,6] -> [2,5,2,3] after transpose(0,1)", base(5, 2, 6).transpose(0, 1), [2, 5, 2, 3]),
        ("heads merged [2,2,5,3].transpose(1,2) -> [2,5,6]", base(2, 2, 5, 3).transpose(1, 2), [2, 5, 6]),
        ("0-d -> [1,1]", torch.tensor(3.0), [1, 1]),
        ("[1] -> 0-d", base(1), []),
    ]


def random_cases(rng, n):
    out = []
    for i in range(n):
        ndim = rng.randint(2, 4)
        shape = [rng.choice([1, 2, 3, 4]) for _ in range(ndim)]
        t = base(*shape)
        perm = list(range(ndim))
        rng.shuffle(perm)
        t = t.permute(*perm)
        if rng.random() < 0.5:
            ax = rng.randrange(ndim)
            if t.shape[ax] > 1:
                t = t.narrow(ax, 1, t.shape[ax] - 1)
        numel = t.numel()
        # A random factorisation of numel as the target.
        target = []
        rest = numel
        while rest > 1:
            divs = [d for d in range(2, rest + 1) if rest % d == 0]
            d = rng.choice(divs)
            target.append(d)
            rest //= d
            if rng.random() < 0.2:
                target.append(1)
        rng.shuffle(target)
        out.append((f"random {i}", t, target or [1]))
    return out


def main():
    rng = random.Random(1234)
    cases = [record(name, t, target) for name, t, target in hand_picked() + random_cases(rng, 60)]
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "view-rules.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1)
    print(f"wrote {len(cases)} cases ({sum(c['view'] is None for c in cases)} need a copy)")


if __name__ == "__main__":
    main()
