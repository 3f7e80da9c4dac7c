/* Fused row kernels (softmax, layer norm) over one contiguous float32 row. Included by fused-portable.c,
 * fused-avx2.c and fused-avx512.c, each compiled for its instruction set with FUSED(name) naming the
 * copy; the loops are written so the compiler vectorises them (independent lanes, no libm calls). */
#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#define LANES 16

/* e^x for float, branch-free so loops over it vectorise: 2^n · p(r) with x = n·ln2 + r, |r| ≤ ln2/2,
 * p of degree 6 (Cephes' expf coefficients); relative error about 2e-7. Below -87.3 it gives 0 (as
 * expf underflows), above 88.7 +Infinity, and NaN stays NaN. */
static inline float FUSED(expf_fast)(float x) {
  float xc = x < -87.3f ? -87.3f : (x > 88.7f ? 88.7f : x);
  float t = xc * 1.44269504088896341f;
#if defined(__AVX2__) || defined(__AVX512F__)
  int32_t ni = (int32_t)__builtin_rintf(t);  /* vroundps: vectorises */
#else
  int32_t ni = (int32_t)((t + 12582912.0f) - 12582912.0f);  /* round to nearest via 1.5·2^23, for SSE2 */
#endif
  float n = (float)ni;
  float r = xc - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits = (ni + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  float y = p * scale;
  y = x < -87.3f ? 0.0f : y;
  y = x > 88.7f ? INFINITY : y;
  return x != x ? x : y;
}

/* y = softmax(x) over n contiguous elements. A NaN anywhere makes the row NaN, as the composed version does. */
static void FUSED(softmax_row)(const float *restrict x, float *restrict y, int64_t n) {
  /* The row's max, NaN ignored (a NaN still reaches every output through the sum). The compiler will not
   * vectorise a max reduction (NaN makes it order-dependent), so AVX builds say it with intrinsics. */
  float m = -INFINITY;
  int64_t i = 0;
#if defined(__AVX2__) || defined(__AVX512F__)
  __m256 m0 = _mm256_set1_ps(-INFINITY), m1 = m0;
  for (; i + 16 <= n; i += 16) {
    m0 = _mm256_max_ps(_mm256_loadu_ps(x + i), m0);  /* max_ps(x, m) keeps m when x is NaN */
    m1 = _mm256_max_ps(_mm256_loadu_ps(x + i + 8), m1);
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, _mm256_max_ps(m0, m1));
  for (int j = 0; j < 8; j++) m = lanes[j] > m ? lanes[j] : m;
#endif
  for (; i < n; i++) m = x[i] > m ? x[i] : m;
  /* Separate simple loops: each one vectorises (the exponential in particular). */
  for (i = 0; i < n; i++) y[i] = FUSED(expf_fast)(x[i] - m);
  float acc[LANES] = {0};
  for (i = 0; i + LANES <= n; i += LANES) {
    for (int j = 0; j < LANES; j++) acc[j] += y[i + j];
  }
  float s = 0;
  for (int j = 0; j < LANES; j++) s += acc[j];
  for (; i < n; i++) s += y[i];
  float inv = 1.0f / s;
  for (i = 0; i < n; i++) y[i] *= inv;
}

/* Layer norm of n contiguous elements: y = (x - mean)·rstd·w + b (w, b may be NULL), rstd = 1/sqrt(var + eps)
 * with the biased variance, as torch. Two passes over x, sums in float across 16 lanes. */
static void FUSED(layernorm_row)(const float *x, const float *w, const float *b, float eps, float *y, int64_t n,
                                 float *mean_out, float *rstd_out) {
  float acc[LANES] = {0};
  int64_t i = 0;
  for (; i + LANES <= n; i += LANES) {
    for (int j = 0; j < LANES; j++) acc[j] += x[i + j];
  }
  float s = 0;
  for (int j = 0; j < LANES; j++) s += acc[j];
  for (; i < n; i++) s += x[i];
  float mean = n > 0 ? s / (float)n : 0.0f;
  for (int j = 0; j < LANES; j++) acc[j] = 0;
  for (i = 0; i + LANES <= n; i += LANES) {
    for (int j = 0; j < LANES; j++) {
      float d = x[i + j] - mean;
      acc[j] += d * d;
    }
  }
  float v = 0;
  for (int j = 0; j < LANES; j++) v += acc[j];
  for (; i < n; i++) v += (x[i] - mean) * (x[i] - mean);
  float rstd = 1.0f / sqrtf(v / (float)n + eps);
  if (w && b) for (i = 0; i < n; i++) y[i] = (x[i] - mean) * rstd * w[i] + b[i];
  else if (w) for (i = 0; i < n; i++) y[i] = (x[i] - mean) * rstd * w[i];
  else if (b) for (i = 0; i < n; i++) y[i] = (x[i] - mean) * rstd + b[i];
  else for (i = 0; i < n; i++) y[i] = (x[i] - mean) * rstd;
  *mean_out = mean;
  *rstd_out = rstd;
}

/* y = e^x over n contiguous elements (the unary exp kernel's contiguous case). */
static void FUSED(exp_row)(const float *restrict x, float *restrict y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = FUSED(expf_fast)(x[i]);
}

static const qkv_fused_rows FUSED(rows) = {FUSED(softmax_row), FUSED(layernorm_row), FUSED(exp_row)};

#undef LANES
