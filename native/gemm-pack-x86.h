/* Packing helpers for the x86 micro-kernels, built on 8×8 transposes; included by each ISA's file so
 * they compile with that file's instruction set. They handle the common full-panel cases: A read
 * along its rows (row-major activations) and B read down its columns (x·Wᵀ in a Linear layer). */
#ifndef QKV_GEMM_PACK_X86_H
#define QKV_GEMM_PACK_X86_H

#include <immintrin.h>
#include <stdint.h>

/* r[j] ← column j of the 8×8 block whose rows are r[0..7]. */
static inline void tr8x8(__m256 r[8]) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20); r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20); r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31); r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31); r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

/* Stores the first n (4, 6 or 8) floats of v. */
static inline void store_n(float *d, __m256 v, int n) {
  if (n == 8) { _mm256_storeu_ps(d, v); return; }
  _mm_storeu_ps(d, _mm256_castps256_ps128(v));
  if (n == 6) _mm_storel_pi((__m64 *)(d + 4), _mm256_extractf128_ps(v, 1));
}

/* One panel of MR rows of A (A(i, k) = src[i*rs + k]) → dst[k*MR + i], rows from n on zero. MR is 6, 8, 12
 * or 14: rows go in groups of 8 (then 4 or 6), each transposed 8 k at a time. */
static inline void pack_a_rows(int64_t kc, const float *src, int64_t rs, float *dst, const int MR, int n) {
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    for (int g = 0; g < MR; g += 8) {
      int w = MR - g < 8 ? MR - g : 8;
      __m256 r[8];
      for (int i = 0; i < 8; i++) r[i] = i < w && g + i < n ? _mm256_loadu_ps(src + (g + i) * rs + k) : _mm256_setzero_ps();
      tr8x8(r);
      for (int j = 0; j < 8; j++) store_n(dst + (k + j) * MR + g, r[j], w);
    }
  }
  for (; k < kc; k++) {
    for (int i = 0; i < MR; i++) dst[k * MR + i] = i < n ? src[i * rs + k] : 0.0f;
  }
}

/* One panel of NR (a multiple of 8) columns of B read down columns (B(k, j) = src[j*cs + k]) → dst[k*NR + j],
 * columns from n on zero. */
static inline void pack_b_cols(int64_t kc, const float *src, int64_t cs, float *dst, const int NR, int n) {
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    for (int h = 0; h < NR; h += 8) {
      __m256 r[8];
      for (int j = 0; j < 8; j++) r[j] = h + j < n ? _mm256_loadu_ps(src + (h + j) * cs + k) : _mm256_setzero_ps();
      tr8x8(r);
      for (int kk = 0; kk < 8; kk++) _mm256_storeu_ps(dst + (k + kk) * NR + h, r[kk]);
    }
  }
  for (; k < kc; k++) {
    for (int j = 0; j < NR; j++) dst[k * NR + j] = j < n ? src[j * cs + k] : 0.0f;
  }
}

#endif
