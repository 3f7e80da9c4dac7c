/* Element-wise kernels: copy with cast, unary, binary and where, over coalesced strided rows.
 * float32 arithmetic is done in float (the same result as ref's double-then-round for + - * / sqrt);
 * int32 results follow JavaScript's ToInt32, as storing into an Int32Array does in ref. */
#include <math.h>
#include <string.h>

#include "kernels.h"

typedef struct {
  int op;
  qkv_buf out, a, b, c;
} ew_ctx;

/* ---- copy and cast ------------------------------------------------------------------------- */

#define COPY_LOOP(TO, TI, CONV)                                                  \
  do {                                                                           \
    TO *o = (TO *)C->out.p + off[0];                                             \
    const TI *x = (const TI *)C->a.p + off[1];                                   \
    int64_t so = st[0], sx = st[1];                                              \
    if (so == 1 && sx == 1) for (int64_t i = 0; i < n; i++) o[i] = CONV(x[i]);   \
    else for (int64_t i = 0; i < n; i++) o[i * so] = CONV(x[i * sx]);            \
  } while (0)
#define SAME(v) (v)
#define TO_F32(v) ((float)(v))
#define TO_F64(v) ((double)(v))
#define TO_I32(v) qkv_to_int32((double)(v))

static void copy_row(void *ctx, int64_t n, const int64_t *off, const int64_t *st) {
  ew_ctx *C = ctx;
  if (C->out.dt == C->a.dt && st[0] == 1 && st[1] == 1) {
    size_t size = C->out.dt == QKV_F64 ? 8 : 4;
    memcpy((char *)C->out.p + off[0] * size, (const char *)C->a.p + off[1] * size, n * size);
    return;
  }
  switch (C->out.dt * 3 + C->a.dt) {
    case QKV_F32 * 3 + QKV_F32: COPY_LOOP(float, float, SAME); break;
    case QKV_F32 * 3 + QKV_F64: COPY_LOOP(float, double, TO_F32); break;
    case QKV_F32 * 3 + QKV_I32: COPY_LOOP(float, int32_t, TO_F32); break;
    case QKV_F64 * 3 + QKV_F32: COPY_LOOP(double, float, TO_F64); break;
    case QKV_F64 * 3 + QKV_F64: COPY_LOOP(double, double, SAME); break;
    case QKV_F64 * 3 + QKV_I32: COPY_LOOP(double, int32_t, TO_F64); break;
    case QKV_I32 * 3 + QKV_F32: COPY_LOOP(int32_t, float, TO_I32); break;
    case QKV_I32 * 3 + QKV_F64: COPY_LOOP(int32_t, double, TO_I32); break;
    case QKV_I32 * 3 + QKV_I32: COPY_LOOP(int32_t, int32_t, SAME); break;
  }
}

void qkv_copy(const qkv_iter *it, qkv_buf out, qkv_buf x) {
  ew_ctx C = {0, out, x, {0}, {0}};
  qkv_iter_run(it, copy_row, &C);
}

/* ---- unary --------------------------------------------------------------------------------- */

/* The output of unary, binary and where is fresh and contiguous, so its row stride is 1. */
#define UN_LOOP(T, EXPR)                                                         \
  do {                                                                           \
    if (sx == 1) for (int64_t i = 0; i < n; i++) { T v = x[i]; o[i] = (EXPR); }  \
    else for (int64_t i = 0; i < n; i++) { T v = x[i * sx]; o[i] = (EXPR); }     \
  } while (0)

static void unary_f32(void *ctx, int64_t n, const int64_t *off, const int64_t *st) {
  ew_ctx *C = ctx;
  float *o = (float *)C->out.p + off[0];
  const float *x = (const float *)C->a.p + off[1];
  int64_t sx = st[1];
  switch (C->op) {
    case QKV_NEG: UN_LOOP(float, -v); break;
    /* libm's expf, not the vectorised exp of fused.h: the composed ops are the definition, and training
     * runs (test/models/copy-task.test.ts) are sensitive to the last bit of every exp. */
    case QKV_EXP: UN_LOOP(float, expf(v)); break;
    case QKV_LOG: UN_LOOP(float, logf(v)); break;
    case QKV_SQRT: UN_LOOP(float, sqrtf(v)); break;
    case QKV_TANH: UN_LOOP(float, tanhf(v)); break;
    case QKV_RELU: UN_LOOP(float, v > 0 ? v : 0.0f); break;
    case QKV_STEP: UN_LOOP(float, v > 0 ? 1.0f : 0.0f); break;
    case QKV_ERF: UN_LOOP(float, erff(v)); break;
    case QKV_ABS: UN_LOOP(float, fabsf(v)); break;
    case QKV_RECIP: UN_LOOP(float, 1.0f / v); break;
  }
}

static void unary_f64(void *ctx, int64_t n, const int64_t *off, const int64_t *st) {
  ew_ctx *C = ctx;
  double *o = (double *)C->out.p + off[0];
  const double *x = (const double *)C->a.p + off[1];
  int64_t sx = st[1];
  switch (C->op) {
    case QKV_NEG: UN_LOOP(double, -v); break;
    case QKV_EXP: UN_LOOP(double, exp(v)); break;
    case QKV_LOG: UN_LOOP(double, log(v)); break;
    case QKV_SQRT: UN_LOOP(double, sqrt(v)); break;
    case QKV_TANH: UN_LOOP(double, tanh(v)); break;
    case QKV_RELU: UN_LOOP(double, v > 0 ? v : 0.0); break;
    case QKV_STEP: UN_LOOP(double, v > 0 ? 1.0 : 0.0); break;
    case QKV_ERF: UN_LOOP(double, erf(v)); break;
    case QKV_ABS: UN_LOOP(double, fabs(v)); break;
    case QKV_RECIP: UN_LOOP(double, 1.0 / v); break;
  }
}

/* int32 inputs go through double, as in ref, and back through ToInt32. */
static void unary_i32(void *ctx, int64_t n, const int64_t *off, const int64_t *st) {
  ew_ctx *C = ctx;
  int32_t *o = (int32_t *)C->out.p + off[0];
  const int32_t *x = (const int32_t *)C->a.p + off[1];
  int64_t sx = st[1];
  switch (C->op) {
    case QKV_NEG: UN_LOOP(double, qkv_to_int32(-v)); break;
    case QKV_EXP: UN_LOOP(double, qkv_to_int32(exp(v))); break;
    case QKV_LOG: UN_LOOP(double, qkv_to_int32(log(v))); break;
    case QKV_SQRT: UN_LOOP(double, qkv_to_int32(sqrt(v))); break;
    case QKV_TANH: UN_LOOP(double, qkv_to_int32(tanh(v))); break;
    case QKV_RELU: UN_LOOP(double, v > 0 ? (int32_t)v : 0); break;
    case QKV_STEP: UN_LOOP(double, v > 0 ? 1 : 0); break;
    case QKV_ERF: UN_LOOP(double, qkv_to_int32(erf(v))); break;
    case QKV_ABS: UN_LOOP(double, qkv_to_int32(fabs(v))); break;
    case QKV_RECIP: UN_LOOP(double, qkv_to_int32(1.0 / v)); break;
  }
}

void qkv_unary(int op, const qkv_iter *it, qkv_buf out, qkv_buf x) {
  ew_ctx C = {op, out, x, {0}, {0}};
  qkv_iter_run(it, x.dt == QKV_F32 ? unary_f32 : x.dt == QKV_F64 ? unary_f64 : unary_i32, &C);
}

/* ---- binary -------------------------------------------------------------------------------- */

/* Specialised for the common stride patterns: both contiguous, and either side broadcast (stride 0). */
#define BIN_LOOP(T, EXPR)                                                                           \
  do {                                                                                              \
    if (sa == 1 && sb == 1) for (int64_t i = 0; i < n; i++) { T x = a[i], y = b[i]; o[i] = (EXPR); } \
    else if (sa == 1 && sb == 0) { T y = b[0]; for (int64_t i = 0; i < n; i++) { T x = a[i]; o[i] = (EXPR); } } \
    else if (sa == 0 && sb == 1) { T x = a[0]; for (int64_t i = 0; i < n; i++) { T y = b[i]; o[i] = (EXPR); } } \
    else for (int64_t i = 0; i < n; i++) { T x = a[i * sa], y = b[i * sb]; o[i] = (EXPR); }          \
  } while (0)

/* max and min pass NaN through from either side, as ref does. */
#define MAXOP(x, y) ((x) >= (y) || (x) != (x) ? (x) : (y))
#define MINOP(x, y) ((x) <= (y) || (x) != (x) ? (x) : (y))

#define BIN_FLOAT(NAME, T, POW)                                                          \
  static void NAME(void *ctx, int64_t n, const int64_t *off, const int64_t *st) {        \
    ew_ctx *C = ctx;                                                                     \
    T *o = (T *)C->out.p + off[0];                                                       \
    const T *a = (const T *)C->a.p + off[1], *b = (const T *)C->b.p + off[2];            \
    int64_t sa = st[1], sb = st[2];                                                      \
    switch (C->op) {                                                                     \
      case QKV_ADD: BIN_LOOP(T, x + y); break;                                           \
      case QKV_SUB: BIN_LOOP(T, x - y); break;                                           \
      case QKV_MUL: BIN_LOOP(T, x * y); break;                                           \
      case QKV_DIV: BIN_LOOP(T, x / y); break;                                           \
      case QKV_POW: BIN_LOOP(T, (T)POW((double)x, (double)y)); break;                    \
      case QKV_MAX: BIN_LOOP(T, MAXOP(x, y)); break;                                     \
      case QKV_MIN: BIN_LOOP(T, MINOP(x, y)); break;                                     \
      case QKV_EQ: BIN_LOOP(T, x == y ? 1 : 0); break;                                   \
      case QKV_LT: BIN_LOOP(T, x < y ? 1 : 0); break;                                    \
      case QKV_GT: BIN_LOOP(T, x > y ? 1 : 0); break;                                    \
    }                                                                                    \
  }

BIN_FLOAT(binary_f32, float, pow)
BIN_FLOAT(binary_f64, double, pow)

/* int32: + - wrap like ToInt32 of the exact sum; * / pow go through double with truncation, as in ref. */
static void binary_i32(void *ctx, int64_t n, const int64_t *off, const int64_t *st) {
  ew_ctx *C = ctx;
  int32_t *o = (int32_t *)C->out.p + off[0];
  const int32_t *a = (const int32_t *)C->a.p + off[1], *b = (const int32_t *)C->b.p + off[2];
  int64_t sa = st[1], sb = st[2];
  switch (C->op) {
    case QKV_ADD: BIN_LOOP(int32_t, (int32_t)((uint32_t)x + (uint32_t)y)); break;
    case QKV_SUB: BIN_LOOP(int32_t, (int32_t)((uint32_t)x - (uint32_t)y)); break;
    case QKV_MUL: BIN_LOOP(int32_t, qkv_to_int32((double)x * (double)y)); break;
    case QKV_DIV: BIN_LOOP(int32_t, qkv_to_int32(trunc((double)x / (double)y))); break;
    case QKV_POW: BIN_LOOP(int32_t, qkv_to_int32(trunc(pow((double)x, (double)y)))); break;
    case QKV_MAX: BIN_LOOP(int32_t, x >= y ? x : y); break;
    case QKV_MIN: BIN_LOOP(int32_t, x <= y ? x : y); break;
    case QKV_EQ: BIN_LOOP(int32_t, x == y ? 1 : 0); break;
    case QKV_LT: BIN_LOOP(int32_t, x < y ? 1 : 0); break;
    case QKV_GT: BIN_LOOP(int32_t, x > y ? 1 : 0); break;
  }
}

void qkv_binary(int op, const qkv_iter *it, qkv_buf out, qkv_buf a, qkv_buf b) {
  ew_ctx C = {op, out, a, b, {0}};
  qkv_iter_run(it, a.dt == QKV_F32 ? binary_f32 : a.dt == QKV_F64 ? binary_f64 : binary_i32, &C);
}

/* ---- where --------------------------------------------------------------------------------- */

/* Values are moved as bits (4 or 8 bytes); only the condition is read as a number. */
#define WHERE_LOOP(TC, TV)                                                                 \
  do {                                                                                     \
    TV *o = (TV *)C->out.p + off[0];                                                       \
    const TC *c = (const TC *)C->c.p + off[1];                                             \
    const TV *a = (const TV *)C->a.p + off[2], *b = (const TV *)C->b.p + off[3];           \
    int64_t sc = st[1], sa = st[2], sb = st[3];                                            \
    for (int64_t i = 0; i < n; i++) o[i] = c[i * sc] != 0 ? a[i * sa] : b[i * sb];         \
  } while (0)

static void where_row(void *ctx, int64_t n, const int64_t *off, const int64_t *st) {
  ew_ctx *C = ctx;
  int wide = C->out.dt == QKV_F64;
  switch (C->c.dt * 2 + wide) {
    case QKV_F32 * 2: WHERE_LOOP(float, uint32_t); break;
    case QKV_F32 * 2 + 1: WHERE_LOOP(float, uint64_t); break;
    case QKV_F64 * 2: WHERE_LOOP(double, uint32_t); break;
    case QKV_F64 * 2 + 1: WHERE_LOOP(double, uint64_t); break;
    case QKV_I32 * 2: WHERE_LOOP(int32_t, uint32_t); break;
    case QKV_I32 * 2 + 1: WHERE_LOOP(int32_t, uint64_t); break;
  }
}

void qkv_where(const qkv_iter *it, qkv_buf out, qkv_buf cond, qkv_buf a, qkv_buf b) {
  ew_ctx C = {0, out, a, b, cond};
  qkv_iter_run(it, where_row, &C);
}
