/* One decoding step of a block or of a whole decoder-only stack: LayerNorms, projections, cached attention and the FFN in one call. */
#include "decode.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decode-kernels.h"
#include "fused.h"
#include "gemm.h"
#include "pool.h"
#include "strided.h"
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

/* ---- the portable kernels ------------------------------------------------------------------------ */

#if !defined(__wasm_simd128__)
/* Four outputs at a time, each a dot product summed in 16 lanes (eight accumulators hide the FMA latency, and
 * each load of x serves four rows of W); the compiler vectorises the lanes for the baseline instruction set. */
static void linear_portable(int64_t rows, int64_t n, int64_t k, const float *x, const float *w, const float *b, float *y,
                            int64_t j0, int64_t j1) {
  enum { LANES = 16 };
  for (int64_t r = 0; r < rows; r++) {
    const float *restrict xr = x + r * k;
    float *restrict yr = y + r * n;
    int64_t j = j0;
    for (; j + 4 <= j1; j += 4) {
      const float *restrict w0 = w + j * k, *restrict w1 = w0 + k, *restrict w2 = w1 + k, *restrict w3 = w2 + k;
      float s0[LANES] = {0}, s1[LANES] = {0}, s2[LANES] = {0}, s3[LANES] = {0};
      int64_t i = 0;
      for (; i + LANES <= k; i += LANES) {
        for (int l = 0; l < LANES; l++) {
          float xv = xr[i + l];
          s0[l] += xv * w0[i + l]; s1[l] += xv * w1[i + l]; s2[l] += xv * w2[i + l]; s3[l] += xv * w3[i + l];
        }
      }
      float t0 = 0, t1 = 0, t2 = 0, t3 = 0;
      for (int l = 0; l < LANES; l++) { t0 += s0[l]; t1 += s1[l]; t2 += s2[l]; t3 += s3[l]; }
      for (; i < k; i++) { t0 += xr[i] * w0[i]; t1 += xr[i] * w1[i]; t2 += xr[i] * w2[i]; t3 += xr[i] * w3[i]; }
      yr[j] = t0; yr[j + 1] = t1; yr[j + 2] = t2; yr[j + 3] = t3;
    }
    for (; j < j1; j++) {
      const float *restrict wj = w + j * k;
      float acc[LANES] = {0};
      int64_t i = 0;
      for (; i + LANES <= k; i += LANES) {
        for (int l = 0; l < LANES; l++) acc[l] += xr[i + l] * wj[i + l];
      }
      float t = 0;
      for (int l = 0; l < LANES; l++) t += acc[l];
      for (; i < k; i++) t += xr[i] * wj[i];
      yr[j] = t;
    }
    if (b) for (j = j0; j < j1; j++) yr[j] += b[j];
  }
}
#endif

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

static void attend_portable(const float *q, const float *kh, const float *vh, int64_t S, int64_t K, float scale, float *o,
                            float *p, qkv_exp_fn exp) {
  float *restrict e = p + S, *restrict qs = e + S;
  for (int64_t i = 0; i < K; i++) qs[i] = q[i] * scale;
  float m = -INFINITY;
  for (int64_t s = 0; s < S; s++) {
    p[s] = dot(qs, kh + s * K, K);
    m = p[s] > m ? p[s] : m;
  }
  for (int64_t s = 0; s < S; s++) p[s] -= m;
  exp(p, e, S);
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
    memcpy(o + i, acc, sizeof acc);
  }
  for (; i < K; i++) {
    float acc = 0;
    for (int64_t s = 0; s < S; s++) acc += e[s] * vh[s * K + i];
    o[i] = acc;
  }
}

#if defined(__wasm_simd128__)
/* linear_portable in f32x4 for WebAssembly: four outputs at a time in 8 accumulators (two vectors of 4 lanes each),
 * where the 16-lane loops above would need 16, more than the engine keeps in registers. */
static void linear_wasm(int64_t rows, int64_t n, int64_t k, const float *x, const float *w, const float *b, float *y,
                        int64_t j0, int64_t j1) {
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * k;
    float *yr = y + r * n;
    int64_t j = j0;
    for (; j + 4 <= j1; j += 4) {
      const float *w0 = w + j * k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
      v128_t a0 = wasm_f32x4_splat(0.0f), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
      int64_t i = 0;
      for (; i + 8 <= k; i += 8) {
        v128_t xl = wasm_v128_load(xr + i), xh = wasm_v128_load(xr + i + 4);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(xl, wasm_v128_load(w0 + i))); b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(xh, wasm_v128_load(w0 + i + 4)));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(xl, wasm_v128_load(w1 + i))); b1 = wasm_f32x4_add(b1, wasm_f32x4_mul(xh, wasm_v128_load(w1 + i + 4)));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(xl, wasm_v128_load(w2 + i))); b2 = wasm_f32x4_add(b2, wasm_f32x4_mul(xh, wasm_v128_load(w2 + i + 4)));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(xl, wasm_v128_load(w3 + i))); b3 = wasm_f32x4_add(b3, wasm_f32x4_mul(xh, wasm_v128_load(w3 + i + 4)));
      }
      float l[4][4];
      wasm_v128_store(l[0], wasm_f32x4_add(a0, b0));
      wasm_v128_store(l[1], wasm_f32x4_add(a1, b1));
      wasm_v128_store(l[2], wasm_f32x4_add(a2, b2));
      wasm_v128_store(l[3], wasm_f32x4_add(a3, b3));
      float t[4];
      for (int q = 0; q < 4; q++) t[q] = (l[q][0] + l[q][1]) + (l[q][2] + l[q][3]);
      for (; i < k; i++) { t[0] += xr[i] * w0[i]; t[1] += xr[i] * w1[i]; t[2] += xr[i] * w2[i]; t[3] += xr[i] * w3[i]; }
      for (int q = 0; q < 4; q++) yr[j + q] = t[q];
    }
    for (; j < j1; j++) yr[j] = dot(xr, w + j * k, k);
    if (b) for (j = j0; j < j1; j++) yr[j] += b[j];
  }
}

const qkv_decode_kernels qkv_decode_portable = {"simd128", linear_wasm, NULL, attend_portable};
#else
const qkv_decode_kernels qkv_decode_portable = {"portable", linear_portable, NULL, attend_portable};
#endif

/* AVX2 + FMA when the CPU has them, unless the portable sgemm kernel was chosen (so that checks of the portable
 * kernels run these too). */
static const qkv_decode_kernels *decode_kernels(void) {
#if defined(__x86_64__)
  static int avx2 = -1;
  if (avx2 < 0) {
    __builtin_cpu_init();
    avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }
  if (avx2 && qkv_sgemm_current() != &qkv_sgemm_portable) return &qkv_decode_avx2;
#endif
  return &qkv_decode_portable;
}

/* ---- the step ------------------------------------------------------------------------------------ */

typedef struct {
  const qkv_decode_kernels *kr;
  const qkv_fused_rows *f;
} kernels;

typedef struct {
  const qkv_decode_kernels *kr;
  int64_t rows, n, k, parts;
  const float *x, *w, *b;
  float *y;
} linear_job;

/* Whether products of several rows take the kernels' linear_rows (1, the default) or linear row by row. */
static int use_row_tiles = 1;

void qkv_decode_row_tiles_enable(int on) { use_row_tiles = on; }
int qkv_decode_row_tiles_enabled(void) { return use_row_tiles; }

/* The kernel for a product of `rows` rows. */
static qkv_decode_linear_fn linear_kernel(const qkv_decode_kernels *kr, int64_t rows) {
  return rows > 1 && use_row_tiles && kr->linear_rows ? kr->linear_rows : kr->linear;
}

static void linear_task(void *ctx, int t, int thread) {
  (void)thread;
  const linear_job *J = ctx;
  const int64_t blocks = (J->n + 7) / 8;  /* whole groups of 8 outputs per task, as the AVX2 kernel computes them */
  int64_t j0 = qkv_split(blocks, (int)J->parts, t) * 8, j1 = qkv_split(blocks, (int)J->parts, t + 1) * 8;
  linear_kernel(J->kr, J->rows)(J->rows, J->n, J->k, J->x, J->w, J->b, J->y, j0, j1 < J->n ? j1 : J->n);
}

/* Below this many multiply-adds a product runs on the calling thread: the hand-off to a spinning worker costs
 * more than half of a [1×128]·[128×512] product saves (measured, docs/bench.md). */
#define PARALLEL_FMAS (1 << 17)

/* y [rows, n] = x [rows, k]·Wᵀ + b, split over the pool's threads by runs of outputs when large enough. */
static void linear(const kernels *K, int64_t rows, int64_t n, int64_t k, const float *x, const float *w, const float *b, float *y) {
  int T = qkv_pool_threads();
  if (T > 1 && (double)rows * n * k >= PARALLEL_FMAS && n >= 16) {
    linear_job J = {K->kr, rows, n, k, (n + 7) / 8 < T ? (n + 7) / 8 : T, x, w, b, y};
    qkv_pool_run(linear_task, &J, (int)J.parts);
  } else {
    linear_kernel(K->kr, rows)(rows, n, k, x, w, b, y, 0, n);
  }
}

static void layernorm_rows(const kernels *K, int64_t rows, int64_t n, const float *x, const float *w, const float *b,
                           float eps, float *y) {
  float mean, rstd;
  for (int64_t r = 0; r < rows; r++) K->f->layernorm(x + r * n, w, b, eps, y + r * n, n, &mean, &rstd);
}

/* y = a + b over n values. */
static void add(const float *a, const float *b, float *y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

/* One row's self-attention at position s0, head by head: qkv [3D] (q, k, v of the new position), caches of
 * this row [H, max_len, K]; writes k and v at s0 and the heads' outputs, concatenated, to o [D]. */
static void attend_row(const kernels *K, const qkv_decode_args *a, int64_t s0, const float *qkv, float *kc, float *vc, float *o,
                       float *p) {
  const int64_t D = a->D, H = a->H, Kd = D / H, L = a->max_len;
  const float scale = 1.0f / sqrtf((float)Kd);
  for (int64_t h = 0; h < H; h++) {
    float *kh = kc + h * L * Kd, *vh = vc + h * L * Kd;
    memcpy(kh + s0 * Kd, qkv + D + h * Kd, Kd * sizeof(float));
    memcpy(vh + s0 * Kd, qkv + 2 * D + h * Kd, Kd * sizeof(float));
    K->kr->attend(qkv + h * Kd, kh, vh, s0 + 1, Kd, scale, o + h * Kd, p, K->f->exp);
  }
}

/* Floats of scratch one block step needs: h [B, D], qkv [B, 3D], heads [B, D], x1 [B, D], ff [B, F] twice, and
 * the attention's 2·(s0 + 1) + K. */
static int64_t block_scratch(int64_t B, int64_t D, int64_t H, int64_t F, int64_t s0) {
  return B * (6 * D + 2 * F) + 2 * (s0 + 1) + D / H;
}

static void block_step(const kernels *K, const qkv_decode_args *a, float *scratch) {
  const int64_t B = a->B, D = a->D, F = a->F, H = a->H, Kd = D / H, L = a->max_len;
  float *h = scratch, *qkv = h + B * D, *heads = qkv + B * 3 * D, *x1 = heads + B * D, *ff = x1 + B * D, *act = ff + B * F,
        *p = act + B * F;

  /* Self-attention sub-layer. */
  const float *in = a->x;
  if (a->norm_first) {
    layernorm_rows(K, B, D, a->x, a->n1_w, a->n1_b, a->eps, h);
    in = h;
  }
  linear(K, B, 3 * D, D, in, a->in_w, a->in_b, qkv);
  /* Row by row in order: with one_row, row b's keys and values are in the cache before row b + 1 attends. */
  for (int64_t b = 0; b < B; b++) {
    const int64_t c = a->one_row ? 0 : b * H * L * Kd;
    attend_row(K, a, a->pos ? a->pos[b] : a->s0, qkv + b * 3 * D, a->k_cache + c, a->v_cache + c, heads + b * D, p);
  }
  linear(K, B, D, D, heads, a->out_w, a->out_b, h);  /* h = SA(·) */
  add(a->x, h, x1, B * D);
  if (!a->norm_first) layernorm_rows(K, B, D, x1, a->n1_w, a->n1_b, a->eps, x1);

  /* Feed-forward sub-layer. */
  in = x1;
  if (a->norm_first) {
    layernorm_rows(K, B, D, x1, a->n2_w, a->n2_b, a->eps, h);
    in = h;
  }
  linear(K, B, F, D, in, a->l1_w, a->l1_b, ff);
  if (a->gelu) K->f->gelu(ff, act, B * F, a->gelu == 2);  /* 1 exact (erf), 2 tanh form */
  else for (int64_t i = 0; i < B * F; i++) act[i] = ff[i] > 0 ? ff[i] : 0;
  linear(K, B, D, F, act, a->l2_w, a->l2_b, h);  /* h = FF(·) */
  if (a->norm_first) {
    add(x1, h, a->out, B * D);
  } else {
    add(x1, h, x1, B * D);
    layernorm_rows(K, B, D, x1, a->n2_w, a->n2_b, a->eps, a->out);
  }
}

int qkv_decode_block(const qkv_decode_args *a) {
  const kernels K = {decode_kernels(), qkv_fused_best()};
  float *scratch = malloc((size_t)block_scratch(a->B, a->D, a->H, a->F, a->s0) * sizeof(float));
  if (!scratch) return 0;
  block_step(&K, a, scratch);
  free(scratch);
  return 1;
}

int qkv_decode_stack(const qkv_decode_stack_args *a) {
  const int64_t B = a->B, D = a->D;
  for (int64_t b = 0; b < B; b++) {
    if (a->ids[b] < 0 || a->ids[b] >= a->emb_rows) return (int)(-1 - b);
  }
  const kernels K = {decode_kernels(), qkv_fused_best()};
  /* x [B, D], then one block's scratch (whose first B·D floats take the final norm's output at the end). */
  float *x = malloc((size_t)(B * D + block_scratch(B, D, a->H, a->F, a->s0)) * sizeof(float));
  if (!x) return 0;
  float *scratch = x + B * D;

  for (int64_t b = 0; b < B; b++) {
    const int64_t at = a->pos ? a->pos[b] : a->s0;
    const float *e = a->tok_emb + (int64_t)a->ids[b] * D, *pe = a->pos_emb ? a->pos_emb + at * D : NULL;
    if (pe) add(e, pe, x + b * D, D);
    else memcpy(x + b * D, e, D * sizeof(float));
  }
  for (int64_t l = 0; l < a->layers; l++) {
    const qkv_decode_layer *w = &a->blocks[l];
    const qkv_decode_args A = {B, D, a->H, a->F, a->max_len, a->s0, a->norm_first, a->gelu, a->eps, x, x,
                               w->in_w, w->in_b, w->out_w, w->out_b, w->n1_w, w->n1_b, w->n2_w, w->n2_b,
                               w->l1_w, w->l1_b, w->l2_w, w->l2_b, w->k_cache, w->v_cache, a->pos, a->one_row};
    block_step(&K, &A, scratch);
  }
  const float *h = x;
  if (a->final_norm) {
    layernorm_rows(&K, B, D, x, a->norm_w, a->norm_b, a->norm_eps, scratch);
    h = scratch;
  }
  linear(&K, B, a->vocab, D, h, a->head, NULL, a->logits);
  free(x);
  return 1;
}
