/* Drivers of the fused attention, cross-entropy, GELU and Adam kernels: split the work over the pool. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fused.h"
#include "pool.h"

#define RUP16(n) (((n) + 15) / 16 * 16)

int64_t qkv_attn_scratch(const qkv_attn_args *a) {
  int64_t S = a->S, K = a->K, Vd = a->Vd, Sp = RUP16(S), Kp = RUP16(K), Vp = RUP16(Vd);
  /* kT, vT, kp, vp, qb, ob, sc, dp, ok, dk, dv: see FUSED(attn_carve) in fused-attention-body.h. */
  return K * Sp + Vd * Sp + S * Kp + S * Vp + 4 * Kp + 4 * Vp + 3 * 4 * Sp + S * Kp + S * Vp;
}

typedef struct {
  const qkv_attn_args *a;
  const qkv_fused_rows *k;
  int backward, tasks;
  int64_t heads;
  _Atomic int failed;
} attn_job;

/* Task t takes heads [heads·t/tasks, heads·(t+1)/tasks); dK and dV of a head belong to one task. */
static void attn_task(void *vctx, int t, int thread) {
  (void)thread;
  attn_job *J = vctx;
  float *w = qkv_thread_scratch(QKV_SCRATCH_ATTENTION, (size_t)qkv_attn_scratch(J->a));
  if (!w) { J->failed = 1; return; }
  for (int64_t bh = qkv_split(J->heads, J->tasks, t); bh < qkv_split(J->heads, J->tasks, t + 1); bh++) {
    if (J->backward) J->k->attn_backward(J->a, bh, w);
    else J->k->attn_forward(J->a, bh, w);
  }
}

/* Most floats of allowed-key rows made per call: beyond this, each head reads the mask itself. */
#define ALLOWED_MAX_FLOATS (8L << 20)

/* A mask that does not vary by head (a causal [T, S] mask, a padding mask [B, 1, 1, S], their [B, 1, T, S]
 * combination), or none, read once for all heads: see qkv_attn_args.ok_rows. Returns the allocation (rows, then
 * the limits) for the caller to free; NULL when the mask differs by head, or when it would be too large or memory
 * runs out (each head then reads the mask itself). */
static void *shared_allowed(qkv_attn_args *a) {
  if (a->mask && a->sm[1] != 0) return NULL;
  int64_t S = a->S, Sp = RUP16(S), blocks = (a->T + 3) / 4, nb = a->mask && a->sm[0] != 0 ? a->B : 1;
  int64_t rows = blocks * 4 * Sp;  /* floats of rows per batch entry; its limits follow all the rows */
  if (nb * (rows + 2 * blocks) > ALLOWED_MAX_FLOATS) return NULL;
  float *ok = calloc((size_t)(nb * (rows + 2 * blocks)), sizeof(float));  /* int64 limits after the rows */
  if (!ok) return NULL;
  int64_t *lim = (int64_t *)(ok + nb * rows);
  for (int64_t b = 0; b < nb; b++) {
    for (int64_t t = 0; t < a->T; t++) {
      float *o = ok + b * rows + t * Sp;
      int64_t last = 0;
      for (int64_t s = 0; s < S; s++) {
        int64_t i = b * a->sm[0] + t * a->sm[2] + s * a->sm[3];
        int masked = !a->mask ? 0 : a->mask_i32 ? ((const int32_t *)a->mask)[i] != 0 : ((const float *)a->mask)[i] != 0;
        o[s] = masked ? 0.0f : 1.0f;
        if (!masked) last = s + 1;
      }
      if (last > lim[b * blocks + t / 4]) lim[b * blocks + t / 4] = last;
    }
  }
  a->ok_rows = ok;
  a->ok_lim = lim;
  a->ok_bs = nb > 1 ? rows : 0;
  a->ok_lim_bs = nb > 1 ? blocks : 0;
  return ok;
}

static int attention(const qkv_attn_args *args, int backward) {
  qkv_attn_args a = *args;
  a.ok_rows = NULL;
  a.ok_lim = NULL;
  attn_job J = {&a, qkv_fused_best(), backward, 0, a.B * a.H, 0};
  if (J.heads == 0 || a.T == 0) return 1;
  void *shared = J.heads > 1 ? shared_allowed(&a) : NULL;
  int64_t tasks = J.heads < 4096 ? J.heads : 4096;
  J.tasks = (int)tasks;
  qkv_pool_run(attn_task, &J, J.tasks);
  free(shared);
  return !J.failed;
}

int qkv_attention_forward(const qkv_attn_args *a) { return attention(a, 0); }
int qkv_attention_backward(const qkv_attn_args *a) {
  if (a->S == 0) {  /* no keys: every output row was 0, so dq is 0 (dk and dv have no rows) */
    for (int64_t b = 0; b < a->B; b++)
      for (int64_t h = 0; h < a->H; h++)
        for (int64_t t = 0; t < a->T; t++) memset(a->dq + b * a->sdq[0] + h * a->sdq[1] + t * a->sdq[2], 0, a->K * sizeof(float));
    return 1;
  }
  return attention(a, 1);
}

typedef struct {
  const qkv_fused_rows *k;
  int64_t N, V, sx, ignore;
  const float *x;
  const int32_t *targets;
  float eps, gscale;
  float *lse, *dx;
  double *partial;
  int tasks;
} xent_job;

static void xent_forward_task(void *vctx, int t, int thread) {
  (void)thread;
  xent_job *J = vctx;
  double sum = 0;
  for (int64_t n = qkv_split(J->N, J->tasks, t); n < qkv_split(J->N, J->tasks, t + 1); n++) {
    if (J->targets[n] == J->ignore) { J->lse[n] = 0; continue; }
    sum += J->k->xent_forward(J->x + n * J->sx, J->V, J->targets[n], J->eps, J->lse + n);
  }
  J->partial[t] = sum;
}

static void xent_backward_task(void *vctx, int t, int thread) {
  (void)thread;
  xent_job *J = vctx;
  for (int64_t n = qkv_split(J->N, J->tasks, t); n < qkv_split(J->N, J->tasks, t + 1); n++) {
    float *dx = J->dx + n * J->V;
    if (J->targets[n] == J->ignore) { memset(dx, 0, J->V * sizeof(float)); continue; }
    J->k->xent_backward(J->x + n * J->sx, J->V, J->targets[n], J->eps, J->lse[n], J->gscale, dx);
  }
}

/* Rows per task: enough work (~32k elements) to pay for a thread, at most 64 tasks. */
static int row_tasks(int64_t N, int64_t V) {
  int64_t t = N * V / QKV_PAR_MIN;
  if (t > N) t = N;
  if (t > 64) t = 64;
  return t < 1 ? 1 : (int)t;
}

double qkv_xent_forward(int64_t N, int64_t V, const float *x, int64_t sx, const int32_t *targets, int64_t ignore_index,
                        float eps, float *lse) {
  double partial[64];
  xent_job J = {qkv_fused_best(), N, V, sx, ignore_index, x, targets, eps, 0, lse, NULL, partial, row_tasks(N, V)};
  qkv_pool_run(xent_forward_task, &J, J.tasks);
  double sum = 0;
  for (int t = 0; t < J.tasks; t++) sum += partial[t];  /* in task order: the same sum for any thread count */
  return sum;
}

void qkv_xent_backward(int64_t N, int64_t V, const float *x, int64_t sx, const int32_t *targets, int64_t ignore_index,
                       float eps, const float *lse, float gscale, float *dx) {
  xent_job J = {qkv_fused_best(), N, V, sx, ignore_index, x, targets, eps, gscale, (float *)lse, dx, NULL, row_tasks(N, V)};
  qkv_pool_run(xent_backward_task, &J, J.tasks);
}

typedef struct {
  const qkv_fused_rows *k;
  int op, tanh_form, tasks;
  int64_t n;
  const float *x, *g;
  float *y, *p, *m, *v;
  const qkv_adam_args *adam;
} elem_job;

static void elem_task(void *vctx, int t, int thread) {
  (void)thread;
  elem_job *J = vctx;
  int64_t lo = qkv_split(J->n, J->tasks, t), len = qkv_split(J->n, J->tasks, t + 1) - lo;
  switch (J->op) {
    case 0: J->k->gelu(J->x + lo, J->y + lo, len, J->tanh_form); break;
    case 1: J->k->gelu_backward(J->x + lo, J->g + lo, J->y + lo, len, J->tanh_form); break;
    default: J->k->adam(J->p + lo, J->g + lo, J->m + lo, J->v + lo, len, J->adam); break;
  }
}

static void elementwise(elem_job *J) {
  int64_t t = J->n / QKV_PAR_MIN;
  int threads = qkv_pool_threads();
  J->tasks = t < 1 ? 1 : (t > 4 * threads ? 4 * threads : (int)t);
  qkv_pool_run(elem_task, J, J->tasks);
}

void qkv_gelu(const float *x, float *y, int64_t n, int tanh_form) {
  elem_job J = {qkv_fused_best(), 0, tanh_form, 0, n, x, NULL, y, NULL, NULL, NULL, NULL};
  elementwise(&J);
}

void qkv_gelu_backward(const float *x, const float *g, float *dx, int64_t n, int tanh_form) {
  elem_job J = {qkv_fused_best(), 1, tanh_form, 0, n, x, g, dx, NULL, NULL, NULL, NULL};
  elementwise(&J);
}

void qkv_adam(float *p, const float *g, float *m, float *v, int64_t n, const qkv_adam_args *a) {
  elem_job J = {qkv_fused_best(), 2, 0, 0, n, NULL, g, NULL, p, m, v, a};
  elementwise(&J);
}

/* Layer-norm backward over rows of n contiguous float32 values (x and g), with the forward's mean and rstd:
 *   x̂ = (x − μ)·rstd,  dx̂ = g ⊙ w (g when w is NULL),  dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂ ⊙ x̂)),
 *   dw = Σ_rows g ⊙ x̂,  db = Σ_rows g.
 * One task per block of rows; each task sums its rows' dw, db into its own slice of `partial`, and the
 * slices are added in task order, so the result does not depend on the thread count. */
typedef struct {
  int64_t rows, n;
  const float *x, *g, *mean, *rstd, *w;
  float *dx, *partial;
  int tasks;
} lnb_job;

#define LNB_LANES 8

static void lnb_task(void *vctx, int t, int thread) {
  (void)thread;
  lnb_job *J = vctx;
  const int64_t n = J->n;
  float *pw = J->partial + (size_t)t * 2 * n, *pb = pw + n;
  for (int64_t i = 0; i < 2 * n; i++) pw[i] = 0;
  for (int64_t r = qkv_split(J->rows, J->tasks, t); r < qkv_split(J->rows, J->tasks, t + 1); r++) {
    const float *restrict x = J->x + r * n, *restrict g = J->g + r * n, *restrict w = J->w;
    float *restrict dx = J->dx + r * n;
    const float mu = J->mean[r], rs = J->rstd[r];
    float a1[LNB_LANES] = {0}, a2[LNB_LANES] = {0};
    int64_t i = 0;
    for (; i + LNB_LANES <= n; i += LNB_LANES) {
      for (int j = 0; j < LNB_LANES; j++) {
        float xh = (x[i + j] - mu) * rs, gi = g[i + j], d = w ? gi * w[i + j] : gi;
        a1[j] += d;
        a2[j] += d * xh;
        pw[i + j] += gi * xh;
        pb[i + j] += gi;
      }
    }
    float s1 = 0, s2 = 0;
    for (int j = 0; j < LNB_LANES; j++) { s1 += a1[j]; s2 += a2[j]; }
    for (; i < n; i++) {
      float xh = (x[i] - mu) * rs, gi = g[i], d = w ? gi * w[i] : gi;
      s1 += d;
      s2 += d * xh;
      pw[i] += gi * xh;
      pb[i] += gi;
    }
    const float m1 = s1 / (float)n, m2 = s2 / (float)n;
    if (w) for (i = 0; i < n; i++) dx[i] = rs * (g[i] * w[i] - m1 - (x[i] - mu) * rs * m2);
    else for (i = 0; i < n; i++) dx[i] = rs * (g[i] - m1 - (x[i] - mu) * rs * m2);
  }
}

int qkv_layernorm_backward(int64_t rows, int64_t n, const float *x, const float *g, const float *mean, const float *rstd,
                           const float *w, float *dx, float *dw, float *db) {
  if (n == 0) return 1;
  /* A fixed task count (from the sizes only), so dw and db are summed the same way on any thread count. */
  int64_t t = rows * n / QKV_PAR_MIN;
  if (t > rows) t = rows;
  if (t > 16) t = 16;
  int tasks = t < 1 ? 1 : (int)t;
  float *partial = malloc((size_t)tasks * 2 * n * sizeof(float));
  if (!partial) return 0;
  lnb_job J = {rows, n, x, g, mean, rstd, w, dx, partial, tasks};
  qkv_pool_run(lnb_task, &J, tasks);
  for (int64_t i = 0; i < n; i++) { dw[i] = 0; db[i] = 0; }
  for (int k = 0; k < tasks; k++) {
    const float *pw = partial + (size_t)k * 2 * n, *pb = pw + n;
    for (int64_t i = 0; i < n; i++) { dw[i] += pw[i]; db[i] += pb[i]; }
  }
  free(partial);
  return 1;
}

/* MurmurHash3's 32-bit finaliser. */
static inline uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

typedef struct { float *mask; int64_t n, chunk; uint32_t k0, k1, th; int none; float scale; } dropout_job;

static void dropout_task(void *ctx, int t, int thread) {
  const dropout_job *J = ctx;
  int64_t lo = (int64_t)t * J->chunk, hi = lo + J->chunk < J->n ? lo + J->chunk : J->n;
  float *mask = J->mask;
  const uint32_t k0 = J->k0, k1 = J->k1, th = J->th;
  const float scale = J->none ? 0.0f : J->scale;
  for (int64_t i = lo; i < hi; i++) mask[i] = fmix32(fmix32((uint32_t)i ^ k0) ^ k1) >= th ? scale : 0.0f;
}

/* Inverted-dropout mask: mask[i] = scale when h_i = fmix32(fmix32(i ^ k0) ^ k1) >= threshold = p·2³², else
 * 0 — src/tensor/ops/functional.ts dropoutMask, bit for bit. Counter-based, so split over the threads. */
void qkv_dropout_mask(float *mask, int64_t n, double threshold, float scale, uint32_t k0, uint32_t k1) {
  double c = ceil(threshold); /* h >= threshold ⇔ h >= ⌈threshold⌉ for integer h */
  dropout_job J = {mask, n, 0, k0, k1, c > 4294967295.0 ? 0u : (uint32_t)c, c > 4294967295.0, scale};
  int tasks = n < 65536 ? 1 : qkv_pool_threads() * 4;
  J.chunk = (n + tasks - 1) / tasks;
  if (J.chunk == 0) return;
  tasks = (int)((n + J.chunk - 1) / J.chunk);
  qkv_pool_run(dropout_task, &J, tasks);
}
