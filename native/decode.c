/* One decoding step of one Transformer block: LayerNorms, projections, cached attention and the FFN in one call. */
#include "decode.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fused.h"
#include "gemm.h"

/* y [rows, n] = x [rows, k] · Wᵀ + b for W [n, k] (torch's Linear layout, read down its columns). */
static void linear_rows(int64_t rows, int64_t n, int64_t k, const float *x, const float *w, const float *b, float *y) {
  qkv_fmat A = {x, k, 1}, W = {w, 1, k};
  qkv_sgemm(1, rows, n, k, A, 0, W, 0, y);
  if (!b) return;
  for (int64_t r = 0; r < rows; r++) {
    float *yr = y + r * n;
    for (int64_t j = 0; j < n; j++) yr[j] += b[j];
  }
}

static void layernorm_rows(const qkv_fused_rows *f, int64_t rows, int64_t n, const float *x, const float *w, const float *b,
                           float eps, float *y) {
  float mean, rstd;
  for (int64_t r = 0; r < rows; r++) f->layernorm(x + r * n, w, b, eps, y + r * n, n, &mean, &rstd);
}

/* y = a + b over n values. */
static void add(const float *a, const float *b, float *y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

/* Σ a[i]·b[i] over n values in 8 independent lanes, so the loop vectorises. */
static float dot(const float *restrict a, const float *restrict b, int64_t n) {
  float acc[8] = {0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; l++) acc[l] += a[i + l] * b[i + l];
  }
  float s = 0;
  for (int l = 0; l < 8; l++) s += acc[l];
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

/* One row's self-attention at position s0, head by head: qkv [3D] (q, k, v of the new position), caches of
 * this row [H, max_len, K]; writes k and v at s0 and the heads' outputs, concatenated, to o [D]. p holds
 * 2·(s0 + 1) + K floats of scratch. Scores as torch: (q·scale)·k, softmax with the row max subtracted. */
static void attend_row(const qkv_fused_rows *f, const qkv_decode_args *a, const float *qkv, float *kc, float *vc,
                       float *o, float *p) {
  const int64_t D = a->D, H = a->H, K = D / H, S = a->s0 + 1, L = a->max_len;
  const float scale = 1.0f / sqrtf((float)K);
  float *restrict e = p + S, *restrict q = e + S;
  for (int64_t h = 0; h < H; h++) {
    const float *kh = kc + h * L * K, *vh = vc + h * L * K;
    float *restrict oh = o + h * K;
    memcpy(kc + h * L * K + a->s0 * K, qkv + D + h * K, K * sizeof(float));
    memcpy(vc + h * L * K + a->s0 * K, qkv + 2 * D + h * K, K * sizeof(float));
    for (int64_t i = 0; i < K; i++) q[i] = qkv[h * K + i] * scale;
    float m = -INFINITY;
    for (int64_t s = 0; s < S; s++) {
      p[s] = dot(q, kh + s * K, K);
      m = p[s] > m ? p[s] : m;
    }
    for (int64_t s = 0; s < S; s++) p[s] -= m;
    f->exp(p, e, S);
    float sum = 0;
    for (int64_t s = 0; s < S; s++) sum += e[s];
    const float inv = 1.0f / sum;
    for (int64_t s = 0; s < S; s++) e[s] *= inv;
    /* o = Σ_s e_s·v_s, 16 columns at a time summed in registers over every position (through memory, each
     * position's update would wait on the previous one's store). */
    int64_t i = 0;
    for (; i + 16 <= K; i += 16) {
      float acc[16] = {0};
      for (int64_t s = 0; s < S; s++) {
        const float *restrict vs = vh + s * K + i;
        for (int l = 0; l < 16; l++) acc[l] += e[s] * vs[l];
      }
      memcpy(oh + i, acc, sizeof acc);
    }
    for (; i < K; i++) {
      float acc = 0;
      for (int64_t s = 0; s < S; s++) acc += e[s] * vh[s * K + i];
      oh[i] = acc;
    }
  }
}

int qkv_decode_block(const qkv_decode_args *a) {
  const qkv_fused_rows *f = qkv_fused_best();
  const int64_t B = a->B, D = a->D, F = a->F, H = a->H, K = D / H, L = a->max_len;
  /* Scratch: h [B, D], qkv [B, 3D], heads [B, D], x1 [B, D], ff [B, F] twice, attention 2·(s0 + 1) + K. */
  float *scratch = malloc((size_t)(B * (6 * D + 2 * F) + 2 * (a->s0 + 1) + K) * sizeof(float));
  if (!scratch) return 0;
  float *h = scratch, *qkv = h + B * D, *heads = qkv + B * 3 * D, *x1 = heads + B * D, *ff = x1 + B * D, *act = ff + B * F,
        *p = act + B * F;

  /* Self-attention sub-layer. */
  const float *in = a->x;
  if (a->norm_first) {
    layernorm_rows(f, B, D, a->x, a->n1_w, a->n1_b, a->eps, h);
    in = h;
  }
  linear_rows(B, 3 * D, D, in, a->in_w, a->in_b, qkv);
  for (int64_t b = 0; b < B; b++) {
    attend_row(f, a, qkv + b * 3 * D, a->k_cache + b * H * L * K, a->v_cache + b * H * L * K, heads + b * D, p);
  }
  linear_rows(B, D, D, heads, a->out_w, a->out_b, h);  /* h = SA(·) */
  add(a->x, h, x1, B * D);
  if (!a->norm_first) layernorm_rows(f, B, D, x1, a->n1_w, a->n1_b, a->eps, x1);

  /* Feed-forward sub-layer. */
  in = x1;
  if (a->norm_first) {
    layernorm_rows(f, B, D, x1, a->n2_w, a->n2_b, a->eps, h);
    in = h;
  }
  linear_rows(B, F, D, in, a->l1_w, a->l1_b, ff);
  if (a->gelu) f->gelu(ff, act, B * F, 0);
  else for (int64_t i = 0; i < B * F; i++) act[i] = ff[i] > 0 ? ff[i] : 0;
  linear_rows(B, D, F, act, a->l2_w, a->l2_b, h);  /* h = FF(·) */
  if (a->norm_first) {
    add(x1, h, a->out, B * D);
  } else {
    add(x1, h, x1, B * D);
    layernorm_rows(f, B, D, x1, a->n2_w, a->n2_b, a->eps, a->out);
  }
  free(scratch);
  return 1;
}
