/* Fused float32 kernels over the last axis (softmax, layer norm), one copy per instruction set. */
#ifndef QKV_FUSED_H
#define QKV_FUSED_H

#include <stdint.h>

#include "strided.h"

/* Row functions over contiguous float32 rows of n elements. */
typedef struct {
  void (*softmax)(const float *x, float *y, int64_t n);
  void (*layernorm)(const float *x, const float *w, const float *b, float eps, float *y, int64_t n, float *mean, float *rstd);
  /* y = e^x, vectorised (relative error ~2e-7); x and y must not overlap. */
  void (*exp)(const float *x, float *y, int64_t n);
} qkv_fused_rows;

/* Each instruction set's copy; qkv_fused_best() picks the one this CPU runs. */
extern const qkv_fused_rows *const qkv_fused_portable;
#if defined(__x86_64__)
extern const qkv_fused_rows *const qkv_fused_avx2;
extern const qkv_fused_rows *const qkv_fused_avx512;
#endif
const qkv_fused_rows *qkv_fused_best(void);

/* Softmax over the last axis of x (nd dims, any strides): `it` walks the rows (operand 0: out row
 * start, contiguous; operand 1: x row start); each row has n elements at stride sx. */
void qkv_softmax(const qkv_iter *it, int64_t n, int64_t sx, float *out, const float *x);

/* Layer norm over the last axis, the same way; w and b (n contiguous values) may be NULL; mean and
 * rstd receive one value per row, in row order. */
void qkv_layernorm(const qkv_iter *it, int64_t n, int64_t sx, float *out, const float *x, const float *w,
                   const float *b, float eps, float *mean, float *rstd);

#endif
