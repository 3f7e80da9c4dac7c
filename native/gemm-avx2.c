/* The AVX2 + FMA sgemm micro-kernel: a 6×16 tile in 12 ymm accumulators (Haswell, Zen 1-3). */
#if defined(__x86_64__)
#include <immintrin.h>

#include "gemm.h"
#include "gemm-pack-x86.h"

#define MR 6
#define NR 16

static void ukernel(int64_t kc, const float *pa, const float *pb, float *c, int64_t rsc, int flags, const float *bias) {
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
  const int acc = flags & QKV_UK_ACC, relu = flags & QKV_UK_RELU;
  const __m256 zero = _mm256_setzero_ps();
  const __m256 blo = bias ? _mm256_loadu_ps(bias) : zero, bhi = bias ? _mm256_loadu_ps(bias + 8) : zero;
#define STORE(i, lo, hi)                                                          \
  do {                                                                            \
    float *ci = c + (i) * rsc;                                                    \
    if (acc) {                                                                    \
      lo = _mm256_add_ps(lo, _mm256_loadu_ps(ci));                                \
      hi = _mm256_add_ps(hi, _mm256_loadu_ps(ci + 8));                            \
    }                                                                             \
    if (bias) {                                                                   \
      lo = _mm256_add_ps(lo, blo);                                                \
      hi = _mm256_add_ps(hi, bhi);                                                \
    }                                                                             \
    if (relu) { /* max(v, 0) is 0 for NaN, as v > 0 ? v : 0 */                    \
      lo = _mm256_max_ps(lo, zero);                                               \
      hi = _mm256_max_ps(hi, zero);                                               \
    }                                                                             \
    _mm256_storeu_ps(ci, lo);                                                     \
    _mm256_storeu_ps(ci + 8, hi);                                                 \
  } while (0)
  STORE(0, c00, c01); STORE(1, c10, c11); STORE(2, c20, c21);
  STORE(3, c30, c31); STORE(4, c40, c41); STORE(5, c50, c51);
#undef STORE
}

/* The direct twin: A's rows read in place through six row pointers (rows past `rows` repeat the last one, so
 * the loop has no branches); used for small products, where packing A would cost as much as using it. Edge
 * tiles are written with masked stores, and a panel of at most 8 columns skips its zero half. */
static const int32_t LANE[8] = {0, 1, 2, 3, 4, 5, 6, 7};

static void direct(int64_t kc, const float *a, int64_t rs, int64_t cs, int rows, const float *pb, float *c, int64_t rsc,
                   int cols) {
  const float *r0 = a, *r1 = a + (rows > 1 ? 1 : 0) * rs, *r2 = a + (rows > 2 ? 2 : rows - 1) * rs;
  const float *r3 = a + (rows > 3 ? 3 : rows - 1) * rs, *r4 = a + (rows > 4 ? 4 : rows - 1) * rs;
  const float *r5 = a + (rows > 5 ? 5 : rows - 1) * rs;
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  int64_t o = 0;
  if (cols > 8) {
#pragma GCC unroll 4
    for (int64_t k = 0; k < kc; k++, o += cs) {
      __m256 b0 = _mm256_load_ps(pb), b1 = _mm256_load_ps(pb + 8), x;
      x = _mm256_broadcast_ss(r0 + o); c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
      x = _mm256_broadcast_ss(r1 + o); c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
      x = _mm256_broadcast_ss(r2 + o); c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
      x = _mm256_broadcast_ss(r3 + o); c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
      x = _mm256_broadcast_ss(r4 + o); c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41);
      x = _mm256_broadcast_ss(r5 + o); c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51);
      pb += NR;
    }
  } else {
#pragma GCC unroll 4
    for (int64_t k = 0; k < kc; k++, o += cs) {
      __m256 b0 = _mm256_load_ps(pb);
      c00 = _mm256_fmadd_ps(_mm256_broadcast_ss(r0 + o), b0, c00);
      c10 = _mm256_fmadd_ps(_mm256_broadcast_ss(r1 + o), b0, c10);
      c20 = _mm256_fmadd_ps(_mm256_broadcast_ss(r2 + o), b0, c20);
      c30 = _mm256_fmadd_ps(_mm256_broadcast_ss(r3 + o), b0, c30);
      c40 = _mm256_fmadd_ps(_mm256_broadcast_ss(r4 + o), b0, c40);
      c50 = _mm256_fmadd_ps(_mm256_broadcast_ss(r5 + o), b0, c50);
      pb += NR;
    }
  }
  if (rows == MR && cols == NR) {
    _mm256_storeu_ps(c, c00); _mm256_storeu_ps(c + 8, c01);
    _mm256_storeu_ps(c + rsc, c10); _mm256_storeu_ps(c + rsc + 8, c11);
    _mm256_storeu_ps(c + 2 * rsc, c20); _mm256_storeu_ps(c + 2 * rsc + 8, c21);
    _mm256_storeu_ps(c + 3 * rsc, c30); _mm256_storeu_ps(c + 3 * rsc + 8, c31);
    _mm256_storeu_ps(c + 4 * rsc, c40); _mm256_storeu_ps(c + 4 * rsc + 8, c41);
    _mm256_storeu_ps(c + 5 * rsc, c50); _mm256_storeu_ps(c + 5 * rsc + 8, c51);
    return;
  }
  __m256i lane = _mm256_loadu_si256((const __m256i *)LANE);
  __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols), lane), m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - 8), lane);
#define STORE(i, lo, hi)                                                    \
  if (rows > (i)) {                                                         \
    _mm256_maskstore_ps(c + (i) * rsc, m0, lo);                             \
    if (cols > 8) _mm256_maskstore_ps(c + (i) * rsc + 8, m1, hi);           \
  }
  STORE(0, c00, c01) STORE(1, c10, c11) STORE(2, c20, c21) STORE(3, c30, c31) STORE(4, c40, c41) STORE(5, c50, c51)
#undef STORE
}

static int supported(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static void pack_a(int64_t kc, const float *src, int64_t rs, float *dst, int n) { pack_a_rows(kc, src, rs, dst, MR, n); }
static void pack_b(int64_t kc, const float *src, int64_t cs, float *dst, int n) { pack_b_cols(kc, src, cs, dst, NR, n); }

const qkv_sgemm_kernel qkv_sgemm_avx2 = {"avx2", MR, NR, 144, 256, 4080, ukernel, supported, pack_a, pack_b, direct};
#endif
