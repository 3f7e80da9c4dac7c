/* Reductions over one axis (sum, max, argmax), accumulated in double as ref does. */
#include <math.h>

#include "kernels.h"

typedef struct {
  int op;
  int64_t len, sax;  /* the reduced axis: length and input stride */
  qkv_buf out, x;
} red_ctx;

static inline void put(qkv_buf out, int64_t i, double v) {
  switch (out.dt) {
    case QKV_F32: ((float *)out.p)[i] = (float)v; break;
    case QKV_F64: ((double *)out.p)[i] = v; break;
    case QKV_I32: ((int32_t *)out.p)[i] = qkv_to_int32(v); break;
  }
}

/* Sum of len values at stride s. Eight partial sums: faster than one chain, and no less exact. */
#define SUM_STRIDED(T)                                                              \
  static double sum_##T(const T *x, int64_t len, int64_t s) {                      \
    double p[8] = {0};                                                             \
    int64_t k = 0;                                                                 \
    if (s == 1) for (; k + 8 <= len; k += 8) for (int j = 0; j < 8; j++) p[j] += x[k + j]; \
    double tot = 0;                                                                \
    for (; k < len; k++) tot += x[k * s];                                          \
    return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7])) + tot; \
  }

/* max and argmax: the first NaN wins, as in ref; an empty axis gives -Infinity and index 0. */
#define MAX_STRIDED(T)                                                              \
  static double max_##T(const T *x, int64_t len, int64_t s, int64_t *arg) {        \
    double best = -INFINITY;                                                       \
    *arg = 0;                                                                      \
    for (int64_t k = 0; k < len; k++) {                                            \
      double v = x[k * s];                                                         \
      if (v > best || v != v) { best = v; *arg = k; if (v != v) break; }           \
    }                                                                              \
    return best;                                                                   \
  }

typedef float f32;
typedef double f64;
typedef int32_t i32;
SUM_STRIDED(f32) SUM_STRIDED(f64) SUM_STRIDED(i32)
MAX_STRIDED(f32) MAX_STRIDED(f64) MAX_STRIDED(i32)

/* Summing an outer axis over contiguous inner elements: accumulate whole rows, so memory is read in order. */
#define SUM_ROWS(T)                                                                 \
  static void sum_rows_##T(const T *x, int64_t len, int64_t sax, int64_t n, qkv_buf out, int64_t o0) { \
    double acc[256];                                                               \
    for (int64_t i0 = 0; i0 < n; i0 += 256) {                                      \
      int64_t m = n - i0 < 256 ? n - i0 : 256;                                     \
      for (int64_t i = 0; i < m; i++) acc[i] = 0;                                  \
      for (int64_t k = 0; k < len; k++) {                                          \
        const T *r = x + k * sax + i0;                                             \
        for (int64_t i = 0; i < m; i++) acc[i] += r[i];                            \
      }                                                                            \
      for (int64_t i = 0; i < m; i++) put(out, o0 + i0 + i, acc[i]);               \
    }                                                                              \
  }
SUM_ROWS(f32) SUM_ROWS(f64) SUM_ROWS(i32)

#define RED_ROW(T)                                                                  \
  static void red_row_##T(void *ctx, int64_t n, const int64_t *off, const int64_t *st) { \
    red_ctx *C = ctx;                                                              \
    const T *x = (const T *)C->x.p + off[1];                                       \
    int64_t sx = st[1];                                                            \
    if (C->op == QKV_SUM && sx == 1 && C->sax != 1 && n >= 8) {                     \
      sum_rows_##T(x, C->len, C->sax, n, C->out, off[0]);                          \
      return;                                                                      \
    }                                                                              \
    for (int64_t i = 0; i < n; i++) {                                              \
      const T *xi = x + i * sx;                                                    \
      if (C->op == QKV_SUM) { put(C->out, off[0] + i, sum_##T(xi, C->len, C->sax)); continue; } \
      int64_t arg;                                                                 \
      double m = max_##T(xi, C->len, C->sax, &arg);                                \
      put(C->out, off[0] + i, C->op == QKV_RMAX ? m : (double)arg);                \
    }                                                                              \
  }
RED_ROW(f32) RED_ROW(f64) RED_ROW(i32)

void qkv_reduce(int op, const qkv_iter *it, int64_t len, int64_t axis_stride, qkv_buf out, qkv_buf x) {
  red_ctx C = {op, len, axis_stride, out, x};
  qkv_iter_run_cost(it, x.dt == QKV_F32 ? red_row_f32 : x.dt == QKV_F64 ? red_row_f64 : red_row_i32, &C, len);
}
