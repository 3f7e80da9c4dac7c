/* The decoding step's one-row kernels in AVX2 + FMA: x·Wᵀ + b eight outputs at a time, and one head's cached attention. */
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

#include "decode-kernels.h"

/* The eight sums of a0..a7's lanes, in one register: [Σa0, Σa1, ..., Σa7]. */
static inline __m256 hsum8(__m256 a0, __m256 a1, __m256 a2, __m256 a3, __m256 a4, __m256 a5, __m256 a6, __m256 a7) {
  __m256 u0 = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));  /* per 128-bit half: Σ of 4 lanes each */
  __m256 u1 = _mm256_hadd_ps(_mm256_hadd_ps(a4, a5), _mm256_hadd_ps(a6, a7));
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

static inline float hsum(__m256 a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* Eight dot products of x [k] with the rows r0, r0 + ld, ..., r0 + 7·ld: eight accumulators, so the FMA latency is
 * hidden and each load of x serves eight rows. */
static inline __m256 dot8(const float *restrict x, const float *restrict r0, int64_t ld, int64_t k) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  const int64_t k8 = k & ~(int64_t)7;
  for (int64_t i = 0; i < k8; i += 8) {
    const __m256 xv = _mm256_loadu_ps(x + i);
    const float *w = r0 + i;
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w), xv, a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + ld), xv, a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 2 * ld), xv, a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 3 * ld), xv, a3);
    a4 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 4 * ld), xv, a4);
    a5 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 5 * ld), xv, a5);
    a6 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 6 * ld), xv, a6);
    a7 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 7 * ld), xv, a7);
  }
  __m256 s = hsum8(a0, a1, a2, a3, a4, a5, a6, a7);
  if (k8 < k) {
    float t[8];
    for (int r = 0; r < 8; r++) {
      float u = 0;
      for (int64_t i = k8; i < k; i++) u += x[i] * r0[r * ld + i];
      t[r] = u;
    }
    s = _mm256_add_ps(s, _mm256_loadu_ps(t));
  }
  return s;
}

/* One dot product of two runs of k values. */
static inline float dot1(const float *restrict x, const float *restrict w, int64_t k) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0;
  int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
  }
  for (; i + 8 <= k; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
  float s = hsum(_mm256_add_ps(a0, a1));
  for (; i < k; i++) s += x[i] * w[i];
  return s;
}

/* Eight outputs at a time for every row of x: the eight rows of W (8·k floats) stay in L1 while the rows of x
 * pass, so W is streamed from memory once whatever the batch. */
static void linear_avx2(int64_t rows, int64_t n, int64_t k, const float *x, const float *w, const float *b, float *y,
                        int64_t j0, int64_t j1) {
  int64_t j = j0;
  for (; j + 8 <= j1; j += 8) {
    for (int64_t r = 0; r < rows; r++) {
      __m256 s = dot8(x + r * k, w + j * k, k, k);
      if (b) s = _mm256_add_ps(s, _mm256_loadu_ps(b + j));
      _mm256_storeu_ps(y + r * n + j, s);
    }
  }
  for (; j < j1; j++) {
    for (int64_t r = 0; r < rows; r++) y[r * n + j] = dot1(x + r * k, w + j * k, k) + (b ? b[j] : 0.0f);
  }
}

/* The four sums of a0..a3's lanes in one register, each summed in hsum8's order ((l0 + l1) + (l2 + l3)) + ((l4 + l5) +
 * (l6 + l7)), so a tile's outputs are those of dot8 bit for bit. */
static inline __m128 hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  const __m256 u = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  return _mm_add_ps(_mm256_castps256_ps128(u), _mm256_extractf128_ps(u, 1));
}

/* One tile of R rows (R <= 3) × 4 outputs: R·4 accumulators over k (a multiple of 8), each load of x serving four
 * outputs and each load of W R rows (7 loads per 12 FMAs at R = 3, where dot8 makes 9 per 8). Every accumulator runs
 * over k in the order of dot8's, so each output is dot8's bit for bit, whatever the rows around it. */
static inline __attribute__((always_inline)) void tile_rx4(int R, int64_t n, int64_t k, const float *restrict x,
                                                           const float *restrict w, const float *b, float *y, const float *pf) {
  __m256 acc[3][4];
  for (int r = 0; r < R; r++) for (int c = 0; c < 4; c++) acc[r][c] = _mm256_setzero_ps();
  for (int64_t i = 0; i < k; i += 8) {
    if (pf) {  /* the next 4 rows of W (4k floats, two lines per step of 8): fetched while these tiles compute */
      _mm_prefetch((const char *)(pf + 4 * i), _MM_HINT_T0);
      _mm_prefetch((const char *)(pf + 4 * i + 16), _MM_HINT_T0);
    }
    __m256 xv[3];
    for (int r = 0; r < R; r++) xv[r] = _mm256_loadu_ps(x + r * k + i);
    for (int c = 0; c < 4; c++) {
      const __m256 wv = _mm256_loadu_ps(w + c * k + i);
      for (int r = 0; r < R; r++) acc[r][c] = _mm256_fmadd_ps(wv, xv[r], acc[r][c]);
    }
  }
  for (int r = 0; r < R; r++) {
    __m128 s = hsum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);
    if (b) s = _mm_add_ps(s, _mm_loadu_ps(b));
    _mm_storeu_ps(y + r * n, s);
  }
}

/* linear_avx2 for rows > 1, the rows' products as one: runs of 4 outputs (4 rows of W, ≤ 16 KiB at k 1024, stay in
 * L1) against tiles of 3 rows (two tiles of 2 where 4 remain), 12 accumulators in registers. The same outputs as
 * linear_avx2 bit for bit: the outputs past the last whole run of 8, and any k not a multiple of 8, take its path. */
static void linear_rows_avx2(int64_t rows, int64_t n, int64_t k, const float *x, const float *w, const float *b, float *y,
                             int64_t j0, int64_t j1) {
  if (rows < 2 || (k & 7)) {
    linear_avx2(rows, n, k, x, w, b, y, j0, j1);
    return;
  }
  const int64_t j8 = j0 + ((j1 - j0) & ~(int64_t)7);
  for (int64_t j = j0; j < j8; j += 4) {
    const float *wj = w + j * k, *bj = b ? b + j : NULL;
    /* The first tile of each run prefetches the next run's rows of W: without it each run waits for memory on its
     * own (a run is one 4 KiB page at k 256, where the hardware prefetchers stop), and a stack's weights (13 MB at
     * d 256, 4 layers) come from memory at every step. */
    const float *pf = j + 4 < j8 ? wj + 4 * k : NULL;
    int64_t r = 0;
    for (; rows - r >= 3 && rows - r != 4; r += 3, pf = NULL) tile_rx4(3, n, k, x + r * k, wj, bj, y + r * n + j, pf);
    for (; r < rows; r += 2, pf = NULL) tile_rx4(2, n, k, x + r * k, wj, bj, y + r * n + j, pf);  /* 2 or 4 rows remain */
  }
  if (j8 < j1) linear_avx2(rows, n, k, x, w, b, y, j8, j1);
}

/* Scores eight keys at a time (dot8 down the cache) with the running max in a register, softmax's sums in eight
 * lanes, then o = (Σ_s e_s·v_s)/Σ_s e_s with the columns in registers: 32 columns in four accumulators per parity
 * of s, so consecutive positions do not wait on each other's FMA. */
static void attend_avx2(const float *q, const float *kh, const float *vh, int64_t S, int64_t K, float scale, float *o,
                        float *p, qkv_exp_fn exp) {
  float *restrict e = p + S, *restrict qs = e + S;
  for (int64_t i = 0; i < K; i++) qs[i] = q[i] * scale;
  __m256 mv = _mm256_set1_ps(-INFINITY);
  int64_t s = 0;
  for (; s + 8 <= S; s += 8) {
    const __m256 sc = dot8(qs, kh + s * K, K, K);
    mv = _mm256_max_ps(mv, sc);
    _mm256_storeu_ps(p + s, sc);
  }
  float lanes[8], m = -INFINITY;
  _mm256_storeu_ps(lanes, mv);
  for (int l = 0; l < 8; l++) m = lanes[l] > m ? lanes[l] : m;
  for (; s < S; s++) {
    p[s] = dot1(qs, kh + s * K, K);
    m = p[s] > m ? p[s] : m;
  }
  const __m256 m8 = _mm256_set1_ps(m);
  for (s = 0; s + 8 <= S; s += 8) _mm256_storeu_ps(p + s, _mm256_sub_ps(_mm256_loadu_ps(p + s), m8));
  for (; s < S; s++) p[s] -= m;
  exp(p, e, S);
  __m256 sv = _mm256_setzero_ps();
  for (s = 0; s + 8 <= S; s += 8) sv = _mm256_add_ps(sv, _mm256_loadu_ps(e + s));
  float sum = hsum(sv);
  for (; s < S; s++) sum += e[s];
  const __m256 inv = _mm256_set1_ps(1.0f / sum);
  int64_t i = 0;
  for (; i + 32 <= K; i += 32) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (s = 0; s + 2 <= S; s += 2) {
      const float *v0 = vh + s * K + i, *v1 = v0 + K;
      const __m256 e0 = _mm256_broadcast_ss(e + s), e1 = _mm256_broadcast_ss(e + s + 1);
      a0 = _mm256_fmadd_ps(e0, _mm256_loadu_ps(v0), a0);
      a1 = _mm256_fmadd_ps(e0, _mm256_loadu_ps(v0 + 8), a1);
      a2 = _mm256_fmadd_ps(e0, _mm256_loadu_ps(v0 + 16), a2);
      a3 = _mm256_fmadd_ps(e0, _mm256_loadu_ps(v0 + 24), a3);
      b0 = _mm256_fmadd_ps(e1, _mm256_loadu_ps(v1), b0);
      b1 = _mm256_fmadd_ps(e1, _mm256_loadu_ps(v1 + 8), b1);
      b2 = _mm256_fmadd_ps(e1, _mm256_loadu_ps(v1 + 16), b2);
      b3 = _mm256_fmadd_ps(e1, _mm256_loadu_ps(v1 + 24), b3);
    }
    if (s < S) {
      const float *v0 = vh + s * K + i;
      const __m256 e0 = _mm256_broadcast_ss(e + s);
      a0 = _mm256_fmadd_ps(e0, _mm256_loadu_ps(v0), a0);
      a1 = _mm256_fmadd_ps(e0, _mm256_loadu_ps(v0 + 8), a1);
      a2 = _mm256_fmadd_ps(e0, _mm256_loadu_ps(v0 + 16), a2);
      a3 = _mm256_fmadd_ps(e0, _mm256_loadu_ps(v0 + 24), a3);
    }
    _mm256_storeu_ps(o + i, _mm256_mul_ps(_mm256_add_ps(a0, b0), inv));
    _mm256_storeu_ps(o + i + 8, _mm256_mul_ps(_mm256_add_ps(a1, b1), inv));
    _mm256_storeu_ps(o + i + 16, _mm256_mul_ps(_mm256_add_ps(a2, b2), inv));
    _mm256_storeu_ps(o + i + 24, _mm256_mul_ps(_mm256_add_ps(a3, b3), inv));
  }
  for (; i + 8 <= K; i += 8) {
    __m256 a0 = _mm256_setzero_ps(), b0 = a0;
    for (s = 0; s + 2 <= S; s += 2) {
      a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(e + s), _mm256_loadu_ps(vh + s * K + i), a0);
      b0 = _mm256_fmadd_ps(_mm256_broadcast_ss(e + s + 1), _mm256_loadu_ps(vh + (s + 1) * K + i), b0);
    }
    if (s < S) a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(e + s), _mm256_loadu_ps(vh + s * K + i), a0);
    _mm256_storeu_ps(o + i, _mm256_mul_ps(_mm256_add_ps(a0, b0), inv));
  }
  for (; i < K; i++) {
    float acc = 0;
    for (s = 0; s < S; s++) acc += e[s] * vh[s * K + i];
    o[i] = acc * _mm256_cvtss_f32(inv);
  }
}

const qkv_decode_kernels qkv_decode_avx2 = {"avx2", linear_avx2, linear_rows_avx2, attend_avx2};
#endif
