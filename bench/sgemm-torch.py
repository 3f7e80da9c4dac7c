# The PyTorch twin of bench/sgemm.ts: answers "threads M K N seconds [batch ta tb]" lines on stdin with
# torch.mm (batch 1) or torch.bmm GFLOP/s; ta / tb make A / B transposed views, as qkv's operands are.
# Run by bench/sgemm.ts with OMP_WAIT_POLICY=PASSIVE, so idle OpenMP threads sleep as ours do.
import sys
import time

import torch

print(f"ready torch {torch.__version__} {torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, 'cpu') else ''}", flush=True)
cached = (None, None, None)
for line in sys.stdin:
    parts = line.split()
    if not parts:
        continue
    threads, m, k, n, min_s = int(parts[0]), int(parts[1]), int(parts[2]), int(parts[3]), float(parts[4])
    batch, ta, tb = (int(parts[5]), parts[6] == "1", parts[7] == "1") if len(parts) >= 8 else (1, False, False)
    torch.set_num_threads(threads)
    if cached[0] != (m, k, n, batch, ta, tb):  # operands are made once per shape, as bench/sgemm.ts does
        g = torch.Generator().manual_seed(0)
        a = torch.randn(batch, k, m, generator=g).transpose(1, 2) if ta else torch.randn(batch, m, k, generator=g)
        b = torch.randn(batch, n, k, generator=g).transpose(1, 2) if tb else torch.randn(batch, k, n, generator=g)
        cached = ((m, k, n, batch, ta, tb), a[0] if batch == 1 else a, b[0] if batch == 1 else b)
    a, b = cached[1], cached[2]
    mm = torch.mm if batch == 1 else torch.bmm
    mm(a, b)
    flop = 2.0 * batch * m * k * n
    reps = max(1, int(0.01 / max(flop / 100e9, 1e-9)))  # about 10 ms per timed run
    best = float("inf")
    start = time.perf_counter()
    runs = 0
    while runs < 3 or time.perf_counter() - start < min_s:  # at least 3 timed runs, as bench/sgemm.ts
        runs += 1
        t0 = time.perf_counter()
        for _ in range(reps):
            mm(a, b)
        best = min(best, (time.perf_counter() - t0) / reps)
    print(f"{flop / best / 1e9:.2f}", flush=True)
