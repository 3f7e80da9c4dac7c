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
#include "meta.h"
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
