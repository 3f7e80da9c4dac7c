/* Strided views in C: dtypes, buffers, and an iterator that walks several same-shaped views row by row. */
#ifndef QKV_STRIDED_H
#define QKV_STRIDED_H

#include <stdint.h>

#define QKV_MAXDIM 16
#define QKV_MAXOPS 4

typedef enum { QKV_F32 = 0, QKV_F64 = 1, QKV_I32 = 2 } qkv_dtype;

/* A typed buffer (the memory of a JS typed array, borrowed for one call). */
typedef struct {
  void *p;
  qkv_dtype dt;
  int64_t len;
} qkv_buf;

/* Several views of one shape, coalesced: size-1 axes dropped and axes merged where every operand
 * allows it, so a contiguous tensor becomes one long row. Operand k's element (i0, ..., i_{nd-1})
 * lives at offset[k] + Σ ij·strides[k][j]. */
typedef struct {
  int nd, nops;
  int64_t shape[QKV_MAXDIM];
  int64_t offset[QKV_MAXOPS];
  int64_t strides[QKV_MAXOPS][QKV_MAXDIM];
} qkv_iter;

/* A row kernel: n elements; off[k] is operand k's first element, st[k] its stride along the row. */
typedef void (*qkv_row_fn)(void *ctx, int64_t n, const int64_t *off, const int64_t *st);

/* Builds an iterator from a shape and per-operand (offset, strides), then coalesces it. */
void qkv_iter_init(qkv_iter *it, int nd, const int64_t *shape, int nops, const int64_t *offsets,
                   const int64_t (*strides)[QKV_MAXDIM]);
/* Number of elements. */
int64_t qkv_iter_numel(const qkv_iter *it);
/* Calls fn once per row (the innermost axis), splitting the rows over the thread pool when the
 * view is large enough to pay for it. */
void qkv_iter_run(const qkv_iter *it, qkv_row_fn fn, void *ctx);
/* The same, for kernels that do `cost` units of work per element (a reduction's axis length). */
void qkv_iter_run_cost(const qkv_iter *it, qkv_row_fn fn, void *ctx, int64_t cost);

/* JavaScript's ToInt32: what storing a number into an Int32Array does (truncate, wrap mod 2^32, NaN → 0). */
static inline int32_t qkv_to_int32(double x) {
  if (!(x == x) || x == 1.0 / 0.0 || x == -1.0 / 0.0) return 0;
  double t = __builtin_trunc(x);
  if (t >= -2147483648.0 && t <= 2147483647.0) return (int32_t)t;
  double m = __builtin_fmod(t, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return (int32_t)(uint32_t)m;
}

/* Splits [0, n) into about `parts` even ranges: range t is [n*t/parts, n*(t+1)/parts). */
static inline int64_t qkv_split(int64_t n, int parts, int t) { return (int64_t)((__int128)n * t / parts); }

/* Below this many elements an element-wise kernel runs on one thread. */
#define QKV_PAR_MIN 32768

#endif
