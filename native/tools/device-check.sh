#!/bin/sh
# One short run on another x86-64 machine (e.g. with AVX-512): correctness of every kernel it can
# run against the naive oracle, a block-size sweep, and thread scaling. Needs build/gemm-check
# (make -C native/tools), a static binary; torch is compared when python3 can import it.
set -u
B=${GEMM_CHECK:-build/gemm-check}
echo "== cpu"; (lscpu 2>/dev/null | grep -E 'Model name|^CPU\(s\)|L1d|L2|L3') ; grep -m1 -o -E 'avx512[a-z_]*' /proc/cpuinfo | sort -u | tr '\n' ' '; echo
echo "== correctness"; $B --quick
export QKV_SECONDS=${QKV_SECONDS:-0.25}
echo "== 1 thread, kernels (default blocks); plain, B read transposed (x·Wᵀ), A read transposed (Xᵀ·G)"
for k in avx512 avx512-6x32 avx512-8x32 avx512-14x32 avx2; do
  for s in 1024,1024,1024 4096,384,128 4096,128,512; do
    for v in "" QKV_TB=1 QKV_TA=1; do echo -n "$v "; env $v QKV_T=1 QKV_KERNEL=$k QKV_SIZES=$s $B --perf | grep -v "not supported"; done
  done
done
echo "== thread scaling (default kernel and blocks)"
for t in 1 2 4 8 16; do
  for s in 256,256,256 1024,1024,1024 2048,2048,2048 4096,384,128 4096,128,512; do QKV_T=$t QKV_SIZES=$s QKV_KERNEL=${KERNEL:-avx512} $B --perf | grep -v "not supported"; done
done
if python3 -c "import torch" 2>/dev/null; then
  echo "== torch.mm"
  printf '1 1024 1024 1024 0.3\n1 4096 128 384 0.3\n2 1024 1024 1024 0.3\n16 2048 2048 2048 0.3\n' | OMP_WAIT_POLICY=PASSIVE python3 bench/sgemm-torch.py
fi
