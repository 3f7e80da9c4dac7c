/* The AVX2 + FMA sgemm micro-kernel: a 6×16 tile in 12 ymm accumulators (Haswell, Zen 1-3). */
#if defined(__x86_64__)
#include <immintrin.h>

#include "gemm.h"
#include "gemm-pack-x86.h"

#define MR 6
#define NR 16

static void ukernel(int64_t kc, const float *pa, const float *pb, float *c, int64_t rsc, int accumulate) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int i = 0; i < MR; i++) _mm_prefetch((const char *)(c + i * rsc), _MM_HINT_T0);
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; k++) {
    __m256 b0 = _mm256_load_ps(pb), b1 = _mm256_load_ps(pb + 8), a;
    a = _mm256_broadcast_ss(pa + 0); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(pa + 1); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(pa + 2); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(pa + 3); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(pa + 4); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(pa + 5); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
    pa += MR;
    pb += NR;
  }
#define STORE(i, lo, hi)                                                          \
  do {                                                                            \
    float *ci = c + (i) * rsc;                                                    \
    if (accumulate) {                                                             \
      lo = _mm256_add_ps(lo, _mm256_loadu_ps(ci));                                \
      hi = _mm256_add_ps(hi, _mm256_loadu_ps(ci + 8));                            \
    }                                                                             \
    _mm256_storeu_ps(ci, lo);                                                     \
    _mm256_storeu_ps(ci + 8, hi);                                                 \
  } while (0)
  STORE(0, c00, c01); STORE(1, c10, c11); STORE(2, c20, c21);
  STORE(3, c30, c31); STORE(4, c40, c41); STORE(5, c50, c51);
#undef STORE
}

static int supported(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static void pack_a(int64_t kc, const float *src, int64_t rs, float *dst) { pack_a_rows(kc, src, rs, dst, MR); }
static void pack_b(int64_t kc, const float *src, int64_t cs, float *dst) { pack_b_cols(kc, src, cs, dst, NR); }

const qkv_sgemm_kernel qkv_sgemm_avx2 = {"avx2", MR, NR, 144, 256, 4080, ukernel, supported, pack_a, pack_b};
#endif
