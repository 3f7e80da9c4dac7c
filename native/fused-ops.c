/* Drivers of the fused attention, cross-entropy, GELU and Adam kernels: split the work over the pool. */
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
  float *w = malloc((size_t)qkv_attn_scratch(J->a) * sizeof(float));
  if (!w) { J->failed = 1; return; }
  for (int64_t bh = qkv_split(J->heads, J->tasks, t); bh < qkv_split(J->heads, J->tasks, t + 1); bh++) {
    if (J->backward) J->k->attn_backward(J->a, bh, w);
    else J->k->attn_forward(J->a, bh, w);
  }
  free(w);
}

static int attention(const qkv_attn_args *a, int backward) {
  attn_job J = {a, qkv_fused_best(), backward, 0, a->B * a->H, 0};
  if (J.heads == 0 || a->T == 0) return 1;
  int64_t tasks = J.heads < 4096 ? J.heads : 4096;
  J.tasks = (int)tasks;
  qkv_pool_run(attn_task, &J, J.tasks);
  return !J.failed;
}

int qkv_attention_forward(const qkv_attn_args *a) { return attention(a, 0); }
int qkv_attention_backward(const qkv_attn_args *a) {
  if (a->S == 0) return 1;
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
