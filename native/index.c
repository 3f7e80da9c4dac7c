/* Gathers and scatters by row id: indexSelect (embedding lookup) and its adjoint indexAdd. */
#include <string.h>

#include "kernels.h"
#include "pool.h"

static int64_t first_bad(qkv_buf ids, int64_t off, int64_t stride, int64_t n, int64_t rows) {
  const int32_t *id = (const int32_t *)ids.p + off;
  for (int64_t i = 0; i < n; i++) {
    if (id[i * stride] < 0 || id[i * stride] >= rows) return i;
  }
  return -1;
}

typedef struct {
  qkv_buf out, src, ids;
  int64_t C, n, ids_off, ids_stride, parts;
  const int64_t *st;
} ix_ctx;

static void select_task(void *ctx, int t, int thread) {
  (void)thread;
  ix_ctx *X = ctx;
  const int32_t *id = (const int32_t *)X->ids.p + X->ids_off;
  size_t size = X->out.dt == QKV_F64 ? 8 : 4;
  const int64_t *st = X->st;
  for (int64_t i = qkv_split(X->n, (int)X->parts, t), end = qkv_split(X->n, (int)X->parts, t + 1); i < end; i++) {
    char *o = (char *)X->out.p + i * X->C * size;
    const char *row = (const char *)X->src.p + (st[0] + id[i * X->ids_stride] * st[1]) * size;
    if (st[2] == 1) memcpy(o, row, X->C * size);
    else if (size == 8) for (int64_t c = 0; c < X->C; c++) ((uint64_t *)o)[c] = ((const uint64_t *)row)[c * st[2]];
    else for (int64_t c = 0; c < X->C; c++) ((uint32_t *)o)[c] = ((const uint32_t *)row)[c * st[2]];
  }
}

static int64_t parts_for(double work, int64_t max) {
  int T = qkv_pool_threads();
  if (T == 1 || work < QKV_PAR_MIN) return 1;
  return max < T ? (max < 1 ? 1 : max) : T;
}

int64_t qkv_index_select(qkv_buf out, qkv_buf table, int64_t R, int64_t C, const int64_t st[3],
                         qkv_buf ids, int64_t ids_off, int64_t ids_stride, int64_t n) {
  int64_t bad = first_bad(ids, ids_off, ids_stride, n, R);
  if (bad >= 0) return bad;
  ix_ctx X = {out, table, ids, C, n, ids_off, ids_stride, parts_for((double)n * C, n), st};
  qkv_pool_run(select_task, &X, (int)X.parts);
  return -1;
}

/* Each task owns a band of columns and walks every id in order, so sums happen in ref's order. */
#define ADD_BAND(T, ADD)                                                                    \
  static void add_band_##T(ix_ctx *X, int64_t c0, int64_t c1) {                             \
    const int32_t *id = (const int32_t *)X->ids.p + X->ids_off;                             \
    const T *src = (const T *)X->src.p + X->st[0];                                          \
    T *out = X->out.p;                                                                      \
    int64_t rs = X->st[1], cs = X->st[2];                                                   \
    for (int64_t i = 0; i < X->n; i++) {                                                    \
      T *o = out + (int64_t)id[i * X->ids_stride] * X->C;                                  \
      const T *s = src + i * rs;                                                            \
      if (cs == 1) for (int64_t c = c0; c < c1; c++) o[c] = ADD(o[c], s[c]);                \
      else for (int64_t c = c0; c < c1; c++) o[c] = ADD(o[c], s[c * cs]);                   \
    }                                                                                       \
  }
#define PLAIN_ADD(x, y) ((x) + (y))
#define WRAP_ADD(x, y) ((int32_t)((uint32_t)(x) + (uint32_t)(y)))
typedef float f32;
typedef double f64;
typedef int32_t i32;
ADD_BAND(f32, PLAIN_ADD)
ADD_BAND(f64, PLAIN_ADD)
ADD_BAND(i32, WRAP_ADD)

static void add_task(void *ctx, int t, int thread) {
  (void)thread;
  ix_ctx *X = ctx;
  int64_t c0 = qkv_split(X->C, (int)X->parts, t), c1 = qkv_split(X->C, (int)X->parts, t + 1);
  switch (X->out.dt) {
    case QKV_F32: add_band_f32(X, c0, c1); break;
    case QKV_F64: add_band_f64(X, c0, c1); break;
    case QKV_I32: add_band_i32(X, c0, c1); break;
  }
}

int64_t qkv_index_add(qkv_buf out, int64_t rows, int64_t C, qkv_buf src, const int64_t st[3],
                      qkv_buf ids, int64_t ids_off, int64_t ids_stride, int64_t n) {
  int64_t bad = first_bad(ids, ids_off, ids_stride, n, rows);
  if (bad >= 0) return bad;
  /* Bands narrower than a cache line would make threads write the same lines. */
  ix_ctx X = {out, src, ids, C, n, ids_off, ids_stride, parts_for((double)n * C, C / 64), st};
  qkv_pool_run(add_task, &X, (int)X.parts);
  return -1;
}
