/* The AVX-512 sgemm micro-kernels (Skylake-X and later, Zen 4): tiles of MR rows × 32 columns, two zmm
 * accumulators per row; MR = 6, 8, 12 or 14 trade register pressure for fewer loads per FMA. */
#if defined(__x86_64__)
#include <immintrin.h>

#include "gemm.h"
#include "gemm-pack-x86.h"

/* One template, instantiated per MR: with MR a constant the loops unroll and acc[] lives in registers. */
#define UKERNEL(MR)                                                                                          \
  static void ukernel_##MR##x32(int64_t kc, const float *pa, const float *pb, float *c, int64_t rsc, int flags,     \
                                const float *bias) {                                                         \
    __m512 acc[MR][2];                                                                                       \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {                                                  \
      acc[i][0] = _mm512_setzero_ps();                                                                       \
      acc[i][1] = _mm512_setzero_ps();                                                                       \
      _mm_prefetch((const char *)(c + i * rsc), _MM_HINT_T0);                                                \
      _mm_prefetch((const char *)(c + i * rsc + 16), _MM_HINT_T0);                                           \
    }                                                                                                        \
    _Pragma("GCC unroll 2") for (int64_t k = 0; k < kc; k++) {                                               \
      __m512 b0 = _mm512_load_ps(pb), b1 = _mm512_load_ps(pb + 16);                                          \
      _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {                                                \
        __m512 a = _mm512_set1_ps(pa[i]);                                                                    \
        acc[i][0] = _mm512_fmadd_ps(a, b0, acc[i][0]);                                                       \
        acc[i][1] = _mm512_fmadd_ps(a, b1, acc[i][1]);                                                       \
      }                                                                                                      \
      pa += MR;                                                                                              \
      pb += 32;                                                                                              \
    }                                                                                                        \
    const __m512 zero = _mm512_setzero_ps();                                                                 \
    const __m512 bias0 = bias ? _mm512_loadu_ps(bias) : zero, bias1 = bias ? _mm512_loadu_ps(bias + 16) : zero; \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {                                                  \
      float *ci = c + i * rsc;                                                                               \
      if (flags & QKV_UK_ACC) {                                                                              \
        acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_loadu_ps(ci));                                           \
        acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_loadu_ps(ci + 16));                                      \
      }                                                                                                      \
      if (bias) { /* the epilogue: + bias, then ReLU (max(v, 0) is 0 for NaN, as v > 0 ? v : 0) */           \
        acc[i][0] = _mm512_add_ps(acc[i][0], bias0);                                                         \
        acc[i][1] = _mm512_add_ps(acc[i][1], bias1);                                                         \
      }                                                                                                      \
      if (flags & QKV_UK_RELU) {                                                                             \
        acc[i][0] = _mm512_max_ps(acc[i][0], zero);                                                          \
        acc[i][1] = _mm512_max_ps(acc[i][1], zero);                                                          \
      }                                                                                                      \
      _mm512_storeu_ps(ci, acc[i][0]);                                                                       \
      _mm512_storeu_ps(ci + 16, acc[i][1]);                                                                  \
    }                                                                                                        \
  }

/* The direct twin per MR: A's rows read in place (rows past `rows` repeat the last one: no branches in the
 * loop); for small products, where packing A would cost as much as using it. */
#define DIRECT(MR)                                                                                           \
  static void direct_##MR##x32(int64_t kc, const float *a, int64_t rs, int64_t cs, int rows, const float *pb, \
                               float *c, int64_t rsc, int cols) {                                            \
    const float *r[MR];                                                                                      \
    __m512 acc[MR][2];                                                                                       \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {                                                  \
      r[i] = a + (i < rows ? i : rows - 1) * rs;                                                             \
      acc[i][0] = _mm512_setzero_ps();                                                                       \
      acc[i][1] = _mm512_setzero_ps();                                                                       \
    }                                                                                                        \
    int64_t o = 0;                                                                                           \
    _Pragma("GCC unroll 2") for (int64_t k = 0; k < kc; k++, o += cs) {                                      \
      __m512 b0 = _mm512_load_ps(pb), b1 = _mm512_load_ps(pb + 16);                                          \
      _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {                                                \
        __m512 x = _mm512_set1_ps(r[i][o]);                                                                  \
        acc[i][0] = _mm512_fmadd_ps(x, b0, acc[i][0]);                                                       \
        acc[i][1] = _mm512_fmadd_ps(x, b1, acc[i][1]);                                                       \
      }                                                                                                      \
      pb += 32;                                                                                              \
    }                                                                                                        \
    __mmask16 m0 = cols >= 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);                                      \
    __mmask16 m1 = cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);              \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {                                                  \
      if (i < rows) {                                                                                        \
        _mm512_mask_storeu_ps(c + i * rsc, m0, acc[i][0]);                                                   \
        _mm512_mask_storeu_ps(c + i * rsc + 16, m1, acc[i][1]);                                              \
      }                                                                                                      \
    }                                                                                                        \
  }

#define PACKERS(MR)                                                                                         \
  static void pack_a_##MR(int64_t kc, const float *src, int64_t rs, float *dst, int n) { pack_a_rows(kc, src, rs, dst, MR, n); }

UKERNEL(6)
UKERNEL(8)
UKERNEL(12)
UKERNEL(14)
DIRECT(6)
DIRECT(8)
DIRECT(12)
DIRECT(14)
PACKERS(6)
PACKERS(8)
PACKERS(12)
PACKERS(14)
static void pack_b_32(int64_t kc, const float *src, int64_t cs, float *dst, int n) { pack_b_cols(kc, src, cs, dst, 32, n); }

static int supported(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
}

/* Blocks: the B micro-panel (kc×32 floats) should sit in a 32-48 KiB L1, the A block (mc×kc) in L2. */
const qkv_sgemm_kernel qkv_sgemm_avx512 = {"avx512", 12, 32, 192, 256, 4096, ukernel_12x32, supported, pack_a_12, pack_b_32, direct_12x32};
const qkv_sgemm_kernel qkv_sgemm_avx512_6x32 = {"avx512-6x32", 6, 32, 192, 256, 4096, ukernel_6x32, supported, pack_a_6, pack_b_32, direct_6x32};
const qkv_sgemm_kernel qkv_sgemm_avx512_8x32 = {"avx512-8x32", 8, 32, 192, 256, 4096, ukernel_8x32, supported, pack_a_8, pack_b_32, direct_8x32};
const qkv_sgemm_kernel qkv_sgemm_avx512_14x32 = {"avx512-14x32", 14, 32, 196, 256, 4096, ukernel_14x32, supported, pack_a_14, pack_b_32, direct_14x32};
#endif
