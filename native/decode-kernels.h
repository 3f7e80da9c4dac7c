/* The decoding step's inner kernels (products of a few rows, one head's cached attention), one table per instruction set (portable in decode.c, decode-avx2.c). */
#ifndef QKV_DECODE_KERNELS_H
#define QKV_DECODE_KERNELS_H

#include <stdint.h>

/* y = e^x over n values (the fused kernels' vectorised exp). */
typedef void (*qkv_exp_fn)(const float *x, float *y, int64_t n);

/* y[r, j] = Σ_i x[r, i]·w[j, i] + b[j] for r < rows and j in [j0, j1): x [rows, k], w [n, k] (torch's Linear layout,
 * each output a dot product of two contiguous runs), y [rows, n], b [n] or NULL. */
typedef void (*qkv_decode_linear_fn)(int64_t rows, int64_t n, int64_t k, const float *x, const float *w, const float *b,
                                     float *y, int64_t j0, int64_t j1);

typedef struct {
  const char *name;
  qkv_decode_linear_fn linear;       /* row by row */
  qkv_decode_linear_fn linear_rows;  /* rows > 1 as one product over the rows (register tiles across rows and outputs),
                                      * each output equal to linear's bit for bit; NULL: linear */
  /* One head of one query over S cached positions: o [K] = Σ_s softmax_s((q·scale)·k_s) v_s with kh, vh [S, K];
   * p holds 2S + K floats of scratch. The row max is subtracted before exp, as torch does. */
  void (*attend)(const float *q, const float *kh, const float *vh, int64_t S, int64_t K, float scale, float *o,
                 float *p, qkv_exp_fn exp);
} qkv_decode_kernels;

extern const qkv_decode_kernels qkv_decode_portable;
#if defined(__x86_64__)
extern const qkv_decode_kernels qkv_decode_avx2;
#endif

#endif
