/* What the WebAssembly export files share: the status codes, the export attribute and the buffer arguments. */
#ifndef QKV_WASM_EXPORTS_H
#define QKV_WASM_EXPORTS_H

#include <stdint.h>

#include "../strided.h"

/* Statuses every export returns (src/backend/wasm-module.ts names them). */
enum { QKV_W_OK = 0, QKV_W_BAD_ARGS = -1, QKV_W_BOUNDS = -2, QKV_W_NO_MEMORY = -3, QKV_W_BAD_TARGET = -4 };

#define QKV_EXPORT(name) __attribute__((export_name(#name), visibility("default")))

/* A buffer of any dtype: byte address, qkv_dtype code, elements. */
#define QKV_BUF(n) int32_t n##_p, int32_t n##_dt, int32_t n##_n
/* A float32 buffer: byte address (0: null), elements. */
#define QKV_F32(n) int32_t n##_p, int32_t n##_n

/* The buffer behind QKV_BUF's three arguments; 0 when they do not describe one. */
int qkv_w_buf(int32_t p, int32_t dt, int32_t len, qkv_buf *out);

/* A number result beside the status (crossEntropy's Σ loss), and an index (indexSelect's bad position, a bad target). */
extern double qkv_w_result_f64;
extern int64_t qkv_w_result_i64;

#endif
