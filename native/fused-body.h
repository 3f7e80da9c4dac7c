/* Fused row kernels (softmax, layer norm, cross-entropy, GELU, Adam; attention via fused-attention-body.h). Included by fused-portable.c,
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
  float n = (float)ni;
#elif defined(__wasm_simd128__)
  /* Round to nearest via 1.5·2^23, the integer read from the sum's low bits: WebAssembly engines expand float → int
   * conversions (i32x4.trunc_sat_f32x4_s) into several instructions. The same ni as the casts below. */
  float tr = t + 12582912.0f;
  int32_t ni;
  memcpy(&ni, &tr, sizeof ni);
  ni -= 0x4B400000;
  float n = tr - 12582912.0f;
#else
  int32_t ni = (int32_t)((t + 12582912.0f) - 12582912.0f);  /* round to nearest via 1.5·2^23, for SSE2 */
  float n = (float)ni;
#endif
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

/* Cross-entropy of one row: loss = lse − (1−ε)·x_t − (ε/V)·Σ x (= −Σ q·log softmax x with q the smoothed
 * one-hot). The Σ x term is left out when ε = 0, so a −∞ logit off the target gives a finite loss, as torch. */
static double FUSED(xent_forward)(const float *restrict x, int64_t V, int64_t target, float eps, float *lse_out) {
  float m = -INFINITY;
  for (int64_t i = 0; i < V; i++) m = x[i] > m ? x[i] : m;
  float acc[LANES] = {0}, sx[LANES] = {0};
  int64_t i = 0;
  for (; i + LANES <= V; i += LANES) {
    for (int j = 0; j < LANES; j++) acc[j] += FUSED(expf_fast)(x[i + j] - m);
  }
  float s = 0;
  for (int j = 0; j < LANES; j++) s += acc[j];
  for (; i < V; i++) s += FUSED(expf_fast)(x[i] - m);
  float lse = m + logf(s);
  *lse_out = lse;
  double loss = (double)lse - (double)(1.0f - eps) * x[target];
  if (eps != 0) {
    for (i = 0; i + LANES <= V; i += LANES) {
      for (int j = 0; j < LANES; j++) sx[j] += x[i + j];
    }
    float t = 0;
    for (int j = 0; j < LANES; j++) t += sx[j];
    for (; i < V; i++) t += x[i];
    loss -= (double)(eps / (float)V) * t;
  }
  return loss;
}

static void FUSED(xent_backward)(const float *restrict x, int64_t V, int64_t target, float eps, float lse, float gscale,
                                 float *restrict dx) {
  float off = eps / (float)V;
  for (int64_t i = 0; i < V; i++) dx[i] = gscale * (FUSED(expf_fast)(x[i] - lse) - off);
  dx[target] -= gscale * (1.0f - eps);
}

/* erf, branch-free so loops over it vectorise (libm's erff does not): Abramowitz & Stegun 7.1.26,
 * 1 − t·p(t)·e^{−x²} with t = 1/(1 + 0.3275911|x|); absolute error below 1.5e-7 (plus the exp's). */
static inline float FUSED(erf_fast)(float x) {
  float ax = fabsf(x);
  float t = 1.0f / (1.0f + 0.3275911f * ax);
  float p = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
  float y = 1.0f - p * FUSED(expf_fast)(-ax * ax);
  return x < 0 ? -y : y;
}

/* tanh(u) = 1 − 2/(e^{2u} + 1), branch-free (absolute error ~1e-7; ±1 once e^{2u} saturates). */
static inline float FUSED(tanh_fast)(float u) {
  return 1.0f - 2.0f / (FUSED(expf_fast)(2.0f * u) + 1.0f);
}

/* GELU: x·Φ(x) = ½x(1 + erf(x/√2)), or ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
static void FUSED(gelu)(const float *restrict x, float *restrict y, int64_t n, int tanh_form) {
  if (tanh_form) {
    for (int64_t i = 0; i < n; i++) {
      float u = 0.7978845608028654f * (x[i] + 0.044715f * x[i] * x[i] * x[i]);
      y[i] = 0.5f * x[i] * (1.0f + FUSED(tanh_fast)(u));
    }
  } else {
    for (int64_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + FUSED(erf_fast)(x[i] * 0.7071067811865476f));
  }
}

/* dx = g·(Φ(x) + x·φ(x)), or the tanh form's derivative ½(1 + th) + ½x(1 − th²)·√(2/π)(1 + 3·0.044715x²). */
static void FUSED(gelu_backward)(const float *restrict x, const float *restrict g, float *restrict dx, int64_t n, int tanh_form) {
  if (tanh_form) {
    for (int64_t i = 0; i < n; i++) {
      float xi = x[i], u = 0.7978845608028654f * (xi + 0.044715f * xi * xi * xi);
      u = u < -40.0f ? -40.0f : (u > 40.0f ? 40.0f : u);  /* e^{2u} stays finite; 1 − th² is below 1e-34 beyond */
      /* th = 1 − 2r and 1 − th² = 4r·(e·r) with e = e^{2u}, r = 1/(e + 1): no cancellation in 1 − th². */
      float e = FUSED(expf_fast)(2.0f * u), r = 1.0f / (e + 1.0f), th = 1.0f - 2.0f * r, sech2 = 4.0f * r * (e * r);
      float du = 0.7978845608028654f * (1.0f + 0.134145f * xi * xi);
      dx[i] = g[i] * (0.5f * (1.0f + th) + 0.5f * xi * sech2 * du);
    }
  } else {
    for (int64_t i = 0; i < n; i++) {
      float xi = x[i];
      float cdf = 0.5f * (1.0f + FUSED(erf_fast)(xi * 0.7071067811865476f));
      float pdf = 0.3989422804014327f * FUSED(expf_fast)(-0.5f * xi * xi);
      dx[i] = g[i] * (cdf + xi * pdf);
    }
  }
}

/* One Adam/AdamW step in place, in torch.optim's order (_single_tensor_adam):
 *   AdamW: p ← p·(1 − lr·λ)      Adam: g ← g + λ·p
 *   m ← m·β1 + (1−β1)·g          v ← v·β2 + (1−β2)·g·g
 *   p ← p − step_size · m / (√v / √(1−β2ᵗ) + ε)                                                   */
static void FUSED(adam)(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, int64_t n,
                        const qkv_adam_args *a) {
  const float b1 = a->beta1, b2 = a->beta2, c1 = 1.0f - a->beta1, c2 = 1.0f - a->beta2, eps = a->eps;
  const float wd = a->weight_decay, decay = 1.0f - a->lr * a->weight_decay, step = a->step_size, bc2 = a->bias2_sqrt;
  const int coupled = !a->decoupled && wd != 0, decoupled = a->decoupled && wd != 0;
  for (int64_t i = 0; i < n; i++) {
    float pi = p[i], gi = g[i];
    if (decoupled) pi = pi * decay;
    if (coupled) gi = gi + wd * pi;
    float mi = m[i] * b1 + c1 * gi;
    float vi = v[i] * b2 + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - step * (mi / (sqrtf(vi) / bc2 + eps));
  }
}

#include "fused-attention-body.h"

static const qkv_fused_rows FUSED(rows) = {
    FUSED(softmax_row), FUSED(layernorm_row), FUSED(exp_row), FUSED(attn_forward), FUSED(attn_backward),
    FUSED(xent_forward), FUSED(xent_backward), FUSED(gelu), FUSED(gelu_backward), FUSED(adam),
};

#undef LANES
