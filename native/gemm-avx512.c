/* The AVX-512 sgemm micro-kernels: 6×32 (12 zmm accumulators) and 12×32 (24), for Zen 4 and Skylake-X on. */
#if defined(__x86_64__)
#include <immintrin.h>

#include "gemm.h"

/* One row of the tile: two 16-lane accumulators fed by one broadcast of A. */
#define ROW(i) a = _mm512_set1_ps(pa[i]); c##i##0 = _mm512_fmadd_ps(a, b0, c##i##0); c##i##1 = _mm512_fmadd_ps(a, b1, c##i##1)
#define DECL(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = _mm512_setzero_ps()
#define STORE(i) STORE_AT(i, i)
#define STORE_AT(name, row)                                              \
  do {                                                                   \
    float *ci = c + (row) * rsc;                                         \
    if (accumulate) {                                                    \
      c##name##0 = _mm512_add_ps(c##name##0, _mm512_loadu_ps(ci));             \
      c##name##1 = _mm512_add_ps(c##name##1, _mm512_loadu_ps(ci + 16));        \
    }                                                                    \
    _mm512_storeu_ps(ci, c##name##0);                                       \
    _mm512_storeu_ps(ci + 16, c##name##1);                                  \
  } while (0)

static void ukernel_6x32(int64_t kc, const float *pa, const float *pb, float *c, int64_t rsc, int accumulate) {
  DECL(0); DECL(1); DECL(2); DECL(3); DECL(4); DECL(5);
  for (int i = 0; i < 6; i++) _mm_prefetch((const char *)(c + i * rsc), _MM_HINT_T0);
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; k++) {
    __m512 b0 = _mm512_load_ps(pb), b1 = _mm512_load_ps(pb + 16), a;
    ROW(0); ROW(1); ROW(2); ROW(3); ROW(4); ROW(5);
    pa += 6;
    pb += 32;
  }
  STORE(0); STORE(1); STORE(2); STORE(3); STORE(4); STORE(5);
}

/* Rows 10 and 11 are named A and B so that token pasting (c##i##0) still works. */
static void ukernel_12x32(int64_t kc, const float *pa, const float *pb, float *c, int64_t rsc, int accumulate) {
  DECL(0); DECL(1); DECL(2); DECL(3); DECL(4); DECL(5); DECL(6); DECL(7); DECL(8); DECL(9);
  __m512 cA0 = _mm512_setzero_ps(), cA1 = cA0, cB0 = cA0, cB1 = cA0;
  for (int i = 0; i < 12; i++) _mm_prefetch((const char *)(c + i * rsc), _MM_HINT_T0);
#pragma GCC unroll 2
  for (int64_t k = 0; k < kc; k++) {
    __m512 b0 = _mm512_load_ps(pb), b1 = _mm512_load_ps(pb + 16), a;
    ROW(0); ROW(1); ROW(2); ROW(3); ROW(4); ROW(5); ROW(6); ROW(7); ROW(8); ROW(9);
    a = _mm512_set1_ps(pa[10]); cA0 = _mm512_fmadd_ps(a, b0, cA0); cA1 = _mm512_fmadd_ps(a, b1, cA1);
    a = _mm512_set1_ps(pa[11]); cB0 = _mm512_fmadd_ps(a, b0, cB0); cB1 = _mm512_fmadd_ps(a, b1, cB1);
    pa += 12;
    pb += 32;
  }
  STORE(0); STORE(1); STORE(2); STORE(3); STORE(4); STORE(5); STORE(6); STORE(7); STORE(8); STORE(9);
  STORE_AT(A, 10); STORE_AT(B, 11);
}

static int supported(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
}

const qkv_sgemm_kernel qkv_sgemm_avx512 = {"avx512", 6, 32, 192, 384, 4096, ukernel_6x32, supported};
const qkv_sgemm_kernel qkv_sgemm_avx512_12x32 = {"avx512-12x32", 12, 32, 192, 384, 4096, ukernel_12x32, supported};
#endif
