/* What the Node-API binding files share: the includes, error macros, and typed-array / metadata readers. */
#ifndef QKV_ADDON_H
#define QKV_ADDON_H
#include <node_api.h>
#include <stdio.h>
#include <string.h>

#include "decode.h"
#include "fused.h"
#include "gemm.h"
#include "kernels.h"
#include "pool.h"

/* The most threads setThreads takes (native/pool.c's MAX_THREADS; src/backend/native.ts's MAX_THREADS). */
#define QKV_MAX_THREADS 256

#define CHECK(call)                                                                    \
  do {                                                                                 \
    if ((call) != napi_ok) {                                                           \
      napi_throw_error(env, "QKV_NATIVE", "qkv native: Node-API call failed: " #call); \
      return NULL;                                                                     \
    }                                                                                  \
  } while (0)
#define FAIL(msg)                                    \
  do {                                               \
    napi_throw_type_error(env, "QKV_NATIVE", msg);   \
    return NULL;                                     \
  } while (0)

/* Borrows a typed array's memory (Float32Array, Float64Array or Int32Array). */
static inline int get_buf(napi_env env, napi_value v, qkv_buf *out) {
  napi_typedarray_type type;
  size_t len;
  void *data;
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  if (napi_get_typedarray_info(env, v, &type, &len, &data, NULL, NULL) != napi_ok) return 0;
  switch (type) {
    case napi_float32_array: out->dt = QKV_F32; break;
    case napi_float64_array: out->dt = QKV_F64; break;
    case napi_int32_array: out->dt = QKV_I32; break;
    default: return 0;
  }
  out->p = data;
  out->len = (int64_t)len;
  return 1;
}

/* A Float32Array argument that may be absent: 1 with *b filled for a Float32Array, 2 for null/undefined,
 * 0 for anything else. */
static inline int get_f32_or_null(napi_env env, napi_value v, qkv_buf *b) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_null || t == napi_undefined) return 2;
  return get_buf(env, v, b) && b->dt == QKV_F32;
}

/* Metadata arrays are Float64Array: exact for any integer a typed array can index. */
static inline const double *get_meta(napi_env env, napi_value v, size_t *len) {
  qkv_buf b;
  if (!get_buf(env, v, &b) || b.dt != QKV_F64) return NULL;
  *len = (size_t)b.len;
  return b.p;
}

static inline int get_int(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

/* Parses [nd, shape..., then per given operand: offset, strides...]. When `out_first` is set, a
 * contiguous output is prepended as operand 0. Returns 0 on malformed metadata. */
static inline int parse_iter(const double *m, size_t len, int nops_given, int out_first, qkv_iter *it,
                      int64_t *shape_out, int *nd_out) {
  if (len < 1) return 0;
  int nd = (int)m[0];
  if (nd < 0 || nd > QKV_MAXDIM || len != (size_t)(1 + nd + nops_given * (1 + nd))) return 0;
  int64_t shape[QKV_MAXDIM], offsets[QKV_MAXOPS], strides[QKV_MAXOPS][QKV_MAXDIM];
  for (int d = 0; d < nd; d++) shape[d] = (int64_t)m[1 + d];
  int k0 = 0;
  if (out_first) {
    offsets[0] = 0;
    int64_t s = 1;
    for (int d = nd - 1; d >= 0; d--) { strides[0][d] = s; s *= shape[d]; }
    k0 = 1;
  }
  for (int k = 0; k < nops_given; k++) {
    const double *op = m + 1 + nd + k * (1 + nd);
    offsets[k0 + k] = (int64_t)op[0];
    for (int d = 0; d < nd; d++) strides[k0 + k][d] = (int64_t)op[1 + d];
  }
  qkv_iter_init(it, nd, shape, k0 + nops_given, offsets, (const int64_t(*)[QKV_MAXDIM])strides);
  if (shape_out) memcpy(shape_out, shape, nd * sizeof(int64_t));
  if (nd_out) *nd_out = nd;
  return 1;
}

/* Belt and braces behind src/backend/check.ts: 1 when every element operand k of `it` addresses, widened by
 * [lo_extra, hi_extra] around each (a row kernel's own axis), lies inside [0, len). O(ndim). */
static inline int iter_fits(const qkv_iter *it, int k, int64_t len, int64_t lo_extra, int64_t hi_extra) {
  int64_t lo = it->offset[k], hi = it->offset[k];
  for (int d = 0; d < it->nd; d++) {
    if (it->shape[d] == 0) return 1;
    int64_t span = (it->shape[d] - 1) * it->strides[k][d];
    if (span < 0) lo += span; else hi += span;
  }
  return lo + lo_extra >= 0 && hi + hi_extra < len;
}

/* The same for an operand of sizes n[0..nd) at strides s[0..nd) from off (matmul, gathers). */
static inline int dims_fit(int64_t off, int nd, const int64_t *n, const int64_t *s, int64_t len) {
  int64_t lo = off, hi = off;
  for (int d = 0; d < nd; d++) {
    if (n[d] <= 0) return 1;
    int64_t span = (n[d] - 1) * s[d];
    if (span < 0) lo += span; else hi += span;
  }
  return lo >= 0 && hi < len;
}
#define block_fits(off, rows, rs, cols, cs, len) dims_fit(off, 2, (const int64_t[2]){rows, cols}, (const int64_t[2]){rs, cs}, len)

/* Throws a RangeError with code QKV_BOUNDS (the TS side's checks make this unreachable from valid callers). */
#define OUT_OF_BOUNDS(msg)                           \
  do {                                               \
    napi_throw_range_error(env, "QKV_BOUNDS", msg);  \
    return NULL;                                     \
  } while (0)

static inline napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static inline napi_value number(napi_env env, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  return v;
}

/* One exported function: its JavaScript name and its callback. */
typedef struct {
  const char *name;
  napi_callback fn;
} qkv_binding;

/* The fused kernels' bindings (addon-fused.c). */
extern const qkv_binding qkv_fused_bindings[];
extern const size_t qkv_fused_binding_count;

#endif
