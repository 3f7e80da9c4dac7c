/* Fused float32 kernels (softmax, layer norm, attention, cross-entropy, GELU, Adam), one copy per instruction set. */
#ifndef QKV_FUSED_H
#define QKV_FUSED_H

#include <stdint.h>

#include "strided.h"

/* Attention over one (batch, head): q [T, K], k [S, K], v [S, Vd] rows at the given strides (the last
 * axis contiguous); mask (float32 or int32, non-zero = not allowed) at strides over (b, h, t, s), or NULL.
 * out [B, H, T, Vd] rows at strides `so` (contiguous: T·Vd·H, T·Vd, Vd; token-major [B, T, H·Vd]: T·H·Vd, Vd, H·Vd);
 * lse [B, H, T] contiguous; a row with every key masked gets out 0, lse -inf. */
typedef struct {
  int64_t B, H, T, S, K, Vd;
  float scale;
  const float *q, *k, *v;
  int64_t sq[3], sk[3], sv[3];  /* batch, head and row strides */
  const void *mask;
  int mask_i32;
  int64_t sm[4];                /* batch, head, query and key strides of the mask */
  float *out, *lse;
  int64_t so[3];                /* batch, head and row strides of out */
  /* Backward only: dout [B, H, T, Vd] in; dq [B, H, T, K], dk [B, H, S, K], dv [B, H, S, Vd] out (every element
   * written), each at its batch, head and row strides (rows contiguous). */
  const float *dout;
  float *dq, *dk, *dv;
  int64_t sdo[3], sdq[3], sdk[3], sdv[3];
  /* Set by the driver (fused-ops.c), not the caller: when the mask is the same for every head (or absent), its
   * allowed keys once for all heads: per batch entry b (at ok_rows + b·ok_bs; ok_bs 0 when the mask is the same for
   * every b), rows [T rounded up to 4][S rounded up to 16] (1 or 0, rows past T zero), and ok_lim[b·ok_lim_bs + t / 4],
   * 1 + the last allowed key of query block t..t+3. NULL: each head reads the mask itself. */
  const float *ok_rows;
  const int64_t *ok_lim;
  int64_t ok_bs, ok_lim_bs;
} qkv_attn_args;

/* One Adam/AdamW step over n contiguous values, in place on p, m, v; torch.optim's order of operations. */
typedef struct {
  float lr, beta1, beta2, eps, weight_decay, step_size, bias2_sqrt;
  int decoupled;
} qkv_adam_args;

/* Row functions over contiguous float32 rows of n elements. */
typedef struct {
  void (*softmax)(const float *x, float *y, int64_t n);
  void (*layernorm)(const float *x, const float *w, const float *b, float eps, float *y, int64_t n, float *mean, float *rstd);
  /* y = e^x, vectorised (relative error ~2e-7); x and y must not overlap. */
  void (*exp)(const float *x, float *y, int64_t n);
  /* Attention forward / backward of head bh = b·H + h; scratch from qkv_attn_scratch(). */
  void (*attn_forward)(const qkv_attn_args *a, int64_t bh, float *scratch);
  void (*attn_backward)(const qkv_attn_args *a, int64_t bh, float *scratch);
  /* Cross-entropy of one row of V logits against `target` with smoothing eps: returns the loss, sets *lse. */
  double (*xent_forward)(const float *x, int64_t V, int64_t target, float eps, float *lse);
  /* dx = gscale·(softmax(x) − q), q the smoothed one-hot of `target`. */
  void (*xent_backward)(const float *x, int64_t V, int64_t target, float eps, float lse, float gscale, float *dx);
  /* GELU (tanh_form: the tanh approximation) and its backward dx = g·GELU'(x). */
  void (*gelu)(const float *x, float *y, int64_t n, int tanh_form);
  void (*gelu_backward)(const float *x, const float *g, float *dx, int64_t n, int tanh_form);
  void (*adam)(float *p, const float *g, float *m, float *v, int64_t n, const qkv_adam_args *a);
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

/* Layer-norm backward over `rows` rows of n contiguous values of x and g, given the forward's per-row mean
 * and rstd; w (n values) may be NULL. dx [rows, n], dw [n], db [n] are written. Returns 0 when out of memory. */
int qkv_layernorm_backward(int64_t rows, int64_t n, const float *x, const float *g, const float *mean, const float *rstd,
                           const float *w, float *dx, float *dw, float *db);

/* Inverted-dropout mask: scale where fmix32(fmix32(i ^ k0) ^ k1) >= threshold (= p·2³²), else 0; split over the pool threads. */
void qkv_dropout_mask(float *mask, int64_t n, double threshold, float scale, uint32_t k0, uint32_t k1);

/* Floats of scratch one head of attention needs (forward and backward). */
int64_t qkv_attn_scratch(const qkv_attn_args *a);
/* Attention forward / backward over every (batch, head), split over the pool. Return 0 when out of memory. */
int qkv_attention_forward(const qkv_attn_args *a);
int qkv_attention_backward(const qkv_attn_args *a);

/* Cross-entropy of logits [N, V] (rows at stride sx, contiguous within a row) against int32 targets;
 * rows whose target is ignore_index get loss 0. Returns Σ loss; lse gets each row's log-sum-exp. */
double qkv_xent_forward(int64_t N, int64_t V, const float *x, int64_t sx, const int32_t *targets, int64_t ignore_index,
                        float eps, float *lse);
/* dx [N, V] contiguous = gscale·(softmax − q) per row; 0 on ignored rows. */
void qkv_xent_backward(int64_t N, int64_t V, const float *x, int64_t sx, const int32_t *targets, int64_t ignore_index,
                       float eps, const float *lse, float gscale, float *dx);
/* Element-wise over n contiguous values, split over the pool when large. */
void qkv_gelu(const float *x, float *y, int64_t n, int tanh_form);
void qkv_gelu_backward(const float *x, const float *g, float *dx, int64_t n, int tanh_form);
void qkv_adam(float *p, const float *g, float *m, float *v, int64_t n, const qkv_adam_args *a);

#endif
