/* Fused kernels' drivers: pick the instruction set's row functions, walk rows in parallel. */
#include "fused.h"

#include <stdlib.h>
#include <string.h>

#include "pool.h"

const qkv_fused_rows *qkv_fused_best(void) {
  static const qkv_fused_rows *best;
  if (!best) {
    best = qkv_fused_portable;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) best = qkv_fused_avx512;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = qkv_fused_avx2;
#endif
  }
  return best;
}

typedef struct {
  const qkv_fused_rows *k;
  int64_t n, sx;
  float *out;
  const float *x, *w, *b;
  float eps;
  float *mean, *rstd;
  int row_index;  /* rows are numbered in order: out row offset / n */
} fused_ctx;

/* A strided row is gathered into scratch first; the row kernels want contiguous input. */
static const float *contiguous_row(const float *x, int64_t n, int64_t sx, float *scratch) {
  if (sx == 1) return x;
  for (int64_t i = 0; i < n; i++) scratch[i] = x[i * sx];
  return scratch;
}

/* The iterator's inner axis walks row starts (each `count` rows at strides st[0] = n, st[1]). */
static void softmax_rows(void *vctx, int64_t count, const int64_t *off, const int64_t *st) {
  fused_ctx *C = vctx;
  float *scratch = C->sx == 1 ? NULL : malloc(C->n * sizeof(float));
  if (C->sx != 1 && !scratch) return;
  for (int64_t r = 0; r < count; r++) {
    const float *x = contiguous_row(C->x + off[1] + r * st[1], C->n, C->sx, scratch);
    C->k->softmax(x, C->out + off[0] + r * st[0], C->n);
  }
  free(scratch);
}

static void layernorm_rows(void *vctx, int64_t count, const int64_t *off, const int64_t *st) {
  fused_ctx *C = vctx;
  float *scratch = C->sx == 1 ? NULL : malloc(C->n * sizeof(float));
  if (C->sx != 1 && !scratch) return;
  for (int64_t r = 0; r < count; r++) {
    int64_t o = off[0] + r * st[0];
    const float *x = contiguous_row(C->x + off[1] + r * st[1], C->n, C->sx, scratch);
    C->k->layernorm(x, C->w, C->b, C->eps, C->out + o, C->n, C->mean + o / C->n, C->rstd + o / C->n);
  }
  free(scratch);
}

void qkv_softmax(const qkv_iter *it, int64_t n, int64_t sx, float *out, const float *x) {
  if (n == 0) return;
  fused_ctx C = {qkv_fused_best(), n, sx, out, x, NULL, NULL, 0, NULL, NULL, 0};
  qkv_iter_run_cost(it, softmax_rows, &C, n);
}

void qkv_layernorm(const qkv_iter *it, int64_t n, int64_t sx, float *out, const float *x, const float *w,
                   const float *b, float eps, float *mean, float *rstd) {
  if (n == 0) return;
  fused_ctx C = {qkv_fused_best(), n, sx, out, x, w, b, eps, mean, rstd, 0};
  qkv_iter_run_cost(it, layernorm_rows, &C, n);
}
