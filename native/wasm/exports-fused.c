/* The WebAssembly exports of the fused kernels (softmax, layer norm, attention, cross-entropy, GELU, Adam, dropout
 * masks) and of the decoding steps, as addon-fused.c binds them for Node-API; buffers and statuses as in exports.c. */
#include <string.h>

#include "../decode.h"
#include "../fused.h"
#include "../meta.h"
#include "exports.h"

/* A float32 buffer of at least `min` elements as a pointer; p = 0 (null) only when `optional` (*out = NULL). */
static int f32_at_least(int32_t p, int32_t n, int64_t min, int optional, float **out) {
  if (p == 0) { *out = NULL; return optional; }
  if (n < min) return 0;
  *out = (float *)(uintptr_t)p;
  return 1;
}

/* softmax(out, x, meta): float32 softmax over the last axis; meta describes x. */
QKV_EXPORT(qkv_w_softmax)
int qkv_w_softmax(QKV_F32(o), QKV_F32(x), const double *m, int32_t ml) {
  qkv_iter it;
  int64_t n, sx;
  if (!o_p || !x_p || !parse_rows(m, ml, &it, &n, &sx)) return QKV_W_BAD_ARGS;
  if (!rows_fit(&it, n, sx, o_n, x_n)) return QKV_W_BOUNDS;
  qkv_softmax(&it, n, sx, (float *)(uintptr_t)o_p, (const float *)(uintptr_t)x_p);
  return QKV_W_OK;
}

/* layerNorm(out, mean, rstd, x, meta, weight, bias, eps): weight and bias (may be null) hold the last axis' length. */
QKV_EXPORT(qkv_w_layer_norm)
int qkv_w_layer_norm(QKV_F32(o), QKV_F32(mean), QKV_F32(rstd), QKV_F32(x), const double *m, int32_t ml, QKV_F32(w), QKV_F32(b),
                     double eps) {
  qkv_iter it;
  int64_t n, sx;
  if (!o_p || !mean_p || !rstd_p || !x_p || !parse_rows(m, ml, &it, &n, &sx)) return QKV_W_BAD_ARGS;
  int64_t rows = n > 0 ? qkv_iter_numel(&it) : 0;
  float *w, *b;
  if (!rows_fit(&it, n, sx, o_n, x_n) || mean_n < rows || rstd_n < rows || !f32_at_least(w_p, w_n, n, 1, &w) ||
      !f32_at_least(b_p, b_n, n, 1, &b))
    return QKV_W_BOUNDS;
  qkv_layernorm(&it, n, sx, (float *)(uintptr_t)o_p, (const float *)(uintptr_t)x_p, w, b, (float)eps, (float *)(uintptr_t)mean_p,
                (float *)(uintptr_t)rstd_p);
  return QKV_W_OK;
}

/* dropoutMask(mask, meta [n, threshold, scale, k0, k1]). */
QKV_EXPORT(qkv_w_dropout_mask)
int qkv_w_dropout_mask(QKV_F32(mask), const double *m, int32_t ml) {
  float *mask;
  if (ml != 5 || m[0] < 0) return QKV_W_BAD_ARGS;
  if (!f32_at_least(mask_p, mask_n, (int64_t)m[0], 0, &mask)) return QKV_W_BOUNDS;
  qkv_dropout_mask(mask, (int64_t)m[0], m[1], (float)m[2], (uint32_t)m[3], (uint32_t)m[4]);
  return QKV_W_OK;
}

/* layerNormBackward(dx, dw, db, x, g, mean, rstd, weight, meta [rows, n, xOffset, gOffset]). */
QKV_EXPORT(qkv_w_layer_norm_backward)
int qkv_w_layer_norm_backward(QKV_F32(dx), QKV_F32(dw), QKV_F32(db), QKV_F32(x), QKV_F32(g), QKV_F32(mean), QKV_F32(rstd), QKV_F32(w),
                              const double *m, int32_t ml) {
  if (ml != 4) return QKV_W_BAD_ARGS;
  int64_t rows = (int64_t)m[0], n = (int64_t)m[1], xo = (int64_t)m[2], go = (int64_t)m[3];
  float *dx, *dw, *db, *x, *g, *mean, *rstd, *w;
  if (rows < 0 || n < 0 || xo < 0 || go < 0) return QKV_W_BAD_ARGS;
  if (!f32_at_least(dx_p, dx_n, rows * n, 0, &dx) || !f32_at_least(dw_p, dw_n, n, 0, &dw) || !f32_at_least(db_p, db_n, n, 0, &db) ||
      !f32_at_least(x_p, x_n, xo + rows * n, 0, &x) || !f32_at_least(g_p, g_n, go + rows * n, 0, &g) ||
      !f32_at_least(mean_p, mean_n, rows, 0, &mean) || !f32_at_least(rstd_p, rstd_n, rows, 0, &rstd) || !f32_at_least(w_p, w_n, n, 1, &w))
    return QKV_W_BOUNDS;
  return qkv_layernorm_backward(rows, n, x + xo, g + go, mean, rstd, w, dx, dw, db) ? QKV_W_OK : QKV_W_NO_MEMORY;
}

/* Attention's meta (44 numbers, as addon-fused.c's get_attention) and its q, k, v and mask buffers (mask: p = 0 for
 * none, dtype float32 or int32). */
static int get_attention(QKV_F32(q), QKV_F32(k), QKV_F32(v), QKV_BUF(mask), const double *m, int32_t ml, qkv_attn_args *A) {
  if (ml != 44 || !q_p || !k_p || !v_p) return QKV_W_BAD_ARGS;
  memset(A, 0, sizeof *A);
  A->B = (int64_t)m[0]; A->H = (int64_t)m[1]; A->T = (int64_t)m[2]; A->S = (int64_t)m[3]; A->K = (int64_t)m[4]; A->Vd = (int64_t)m[5];
  A->scale = (float)m[6];
  const int64_t B = A->B, H = A->H, T = A->T, S = A->S;
  if (!dims_fit((int64_t)m[7], 4, (const int64_t[4]){B, H, T, A->K}, (const int64_t[4]){(int64_t)m[8], (int64_t)m[9], (int64_t)m[10], 1}, q_n) ||
      !dims_fit((int64_t)m[11], 4, (const int64_t[4]){B, H, S, A->K}, (const int64_t[4]){(int64_t)m[12], (int64_t)m[13], (int64_t)m[14], 1}, k_n) ||
      !dims_fit((int64_t)m[15], 4, (const int64_t[4]){B, H, S, A->Vd}, (const int64_t[4]){(int64_t)m[16], (int64_t)m[17], (int64_t)m[18], 1}, v_n))
    return QKV_W_BOUNDS;
  A->q = (const float *)(uintptr_t)q_p + (int64_t)m[7];
  A->k = (const float *)(uintptr_t)k_p + (int64_t)m[11];
  A->v = (const float *)(uintptr_t)v_p + (int64_t)m[15];
  for (int i = 0; i < 3; i++) { A->sq[i] = (int64_t)m[8 + i]; A->sk[i] = (int64_t)m[12 + i]; A->sv[i] = (int64_t)m[16 + i]; }
  if (mask_p) {
    qkv_buf mb;
    if (!qkv_w_buf(mask_p, mask_dt, mask_n, &mb) || (mb.dt != QKV_F32 && mb.dt != QKV_I32)) return QKV_W_BAD_ARGS;
    if (!dims_fit((int64_t)m[19], 4, (const int64_t[4]){B, H, T, S}, (const int64_t[4]){(int64_t)m[20], (int64_t)m[21], (int64_t)m[22], (int64_t)m[23]}, mb.len))
      return QKV_W_BOUNDS;
    A->mask_i32 = mb.dt == QKV_I32;
    A->mask = (const char *)mb.p + (int64_t)m[19] * 4;
    for (int i = 0; i < 4; i++) A->sm[i] = (int64_t)m[20 + i];
  }
  return QKV_W_OK;
}

/* One of out, dout, dq, dk, dv: [B, H, rows, d] at meta's offset and strides (i: 0..4, their order in meta). */
static int get_attn_rows(int32_t p, int32_t n, const double *m, int i, const qkv_attn_args *A, int64_t rows, int64_t d, float **out,
                         int64_t *st) {
  int64_t off = (int64_t)m[24 + 4 * i];
  for (int j = 0; j < 3; j++) st[j] = (int64_t)m[25 + 4 * i + j];
  if (off < 0 || st[0] < 0 || st[1] < 0 || st[2] < d) return 0;
  int64_t end = A->B == 0 || A->H == 0 || rows == 0 || d == 0 ? off : off + (A->B - 1) * st[0] + (A->H - 1) * st[1] + (rows - 1) * st[2] + d;
  if (!f32_at_least(p, n, end, 0, out)) return 0;
  *out += off;
  return 1;
}

/* attention(out, lse, q, k, v, mask, meta). */
QKV_EXPORT(qkv_w_attention)
int qkv_w_attention(QKV_F32(o), QKV_F32(lse), QKV_F32(q), QKV_F32(k), QKV_F32(v), QKV_BUF(mask), const double *m, int32_t ml) {
  qkv_attn_args A;
  int r = get_attention(q_p, q_n, k_p, k_n, v_p, v_n, mask_p, mask_dt, mask_n, m, ml, &A);
  if (r != QKV_W_OK) return r;
  if (!get_attn_rows(o_p, o_n, m, 0, &A, A.T, A.Vd, &A.out, A.so) || !f32_at_least(lse_p, lse_n, A.B * A.H * A.T, 0, &A.lse)) return QKV_W_BOUNDS;
  return qkv_attention_forward(&A) ? QKV_W_OK : QKV_W_NO_MEMORY;
}

/* attentionBackward(dq, dk, dv, dout, out, lse, q, k, v, mask, meta). */
QKV_EXPORT(qkv_w_attention_backward)
int qkv_w_attention_backward(QKV_F32(dq), QKV_F32(dk), QKV_F32(dv), QKV_F32(dout), QKV_F32(o), QKV_F32(lse), QKV_F32(q), QKV_F32(k),
                             QKV_F32(v), QKV_BUF(mask), const double *m, int32_t ml) {
  qkv_attn_args A;
  float *dout;
  int r = get_attention(q_p, q_n, k_p, k_n, v_p, v_n, mask_p, mask_dt, mask_n, m, ml, &A);
  if (r != QKV_W_OK) return r;
  if (!get_attn_rows(dq_p, dq_n, m, 2, &A, A.T, A.K, &A.dq, A.sdq) || !get_attn_rows(dk_p, dk_n, m, 3, &A, A.S, A.K, &A.dk, A.sdk) ||
      !get_attn_rows(dv_p, dv_n, m, 4, &A, A.S, A.Vd, &A.dv, A.sdv) || !get_attn_rows(dout_p, dout_n, m, 1, &A, A.T, A.Vd, &dout, A.sdo) ||
      !get_attn_rows(o_p, o_n, m, 0, &A, A.T, A.Vd, &A.out, A.so) || !f32_at_least(lse_p, lse_n, A.B * A.H * A.T, 0, &A.lse))
    return QKV_W_BOUNDS;
  A.dout = dout;
  return qkv_attention_backward(&A) ? QKV_W_OK : QKV_W_NO_MEMORY;
}

/* The checks both cross-entropy exports share: the logits and targets inside their buffers, every target in range or
 * ignored (else QKV_W_BAD_TARGET with its position in qkv_w_result_i64). */
static int xent_args(QKV_F32(x), int32_t t_p, int32_t t_n, const double *m) {
  if (!x_p || !t_p) return QKV_W_BAD_ARGS;
  if (!xent_fits(m, x_n, t_n)) return QKV_W_BOUNDS;
  int64_t bad = bad_target((const int32_t *)(uintptr_t)t_p + (int64_t)m[6], (int64_t)m[0], (int64_t)m[1], (int64_t)m[4]);
  if (bad >= 0) {
    qkv_w_result_i64 = bad;
    return QKV_W_BAD_TARGET;
  }
  return QKV_W_OK;
}

/* crossEntropy(lse, x, targets, meta [N, V, xOffset, rowStride, ignoreIndex, eps, targetsOffset]): Σ loss in qkv_w_result_f64. */
QKV_EXPORT(qkv_w_cross_entropy)
int qkv_w_cross_entropy(QKV_F32(lse), QKV_F32(x), int32_t t_p, int32_t t_n, const double *m, int32_t ml) {
  float *lse;
  if (ml != 7) return QKV_W_BAD_ARGS;
  if (!f32_at_least(lse_p, lse_n, (int64_t)m[0], 0, &lse)) return QKV_W_BOUNDS;
  int r = xent_args(x_p, x_n, t_p, t_n, m);
  if (r != QKV_W_OK) return r;
  qkv_w_result_f64 = qkv_xent_forward((int64_t)m[0], (int64_t)m[1], (const float *)(uintptr_t)x_p + (int64_t)m[2], (int64_t)m[3],
                                      (const int32_t *)(uintptr_t)t_p + (int64_t)m[6], (int64_t)m[4], (float)m[5], lse);
  return QKV_W_OK;
}

/* crossEntropyBackward(dx, x, lse, targets, meta [N, V, xOffset, rowStride, ignoreIndex, eps, targetsOffset, gscale]). */
QKV_EXPORT(qkv_w_cross_entropy_backward)
int qkv_w_cross_entropy_backward(QKV_F32(dx), QKV_F32(x), QKV_F32(lse), int32_t t_p, int32_t t_n, const double *m, int32_t ml) {
  float *dx, *lse;
  if (ml != 8) return QKV_W_BAD_ARGS;
  if (!f32_at_least(dx_p, dx_n, (int64_t)m[0] * (int64_t)m[1], 0, &dx) || !f32_at_least(lse_p, lse_n, (int64_t)m[0], 0, &lse)) return QKV_W_BOUNDS;
  int r = xent_args(x_p, x_n, t_p, t_n, m);
  if (r != QKV_W_OK) return r;
  qkv_xent_backward((int64_t)m[0], (int64_t)m[1], (const float *)(uintptr_t)x_p + (int64_t)m[2], (int64_t)m[3],
                    (const int32_t *)(uintptr_t)t_p + (int64_t)m[6], (int64_t)m[4], (float)m[5], lse, (float)m[7], dx);
  return QKV_W_OK;
}

/* gelu(out, x, meta [xOffset, n, tanhForm]). */
QKV_EXPORT(qkv_w_gelu)
int qkv_w_gelu(QKV_F32(o), QKV_F32(x), const double *m, int32_t ml) {
  float *out, *x;
  if (ml != 3 || m[0] < 0 || m[1] < 0) return QKV_W_BAD_ARGS;
  if (!f32_at_least(o_p, o_n, (int64_t)m[1], 0, &out) || !f32_at_least(x_p, x_n, (int64_t)m[0] + (int64_t)m[1], 0, &x)) return QKV_W_BOUNDS;
  qkv_gelu(x + (int64_t)m[0], out, (int64_t)m[1], m[2] != 0);
  return QKV_W_OK;
}

/* geluBackward(dx, x, g, meta [xOffset, gOffset, n, tanhForm]). */
QKV_EXPORT(qkv_w_gelu_backward)
int qkv_w_gelu_backward(QKV_F32(dx), QKV_F32(x), QKV_F32(g), const double *m, int32_t ml) {
  float *dx, *x, *g;
  if (ml != 4 || m[0] < 0 || m[1] < 0 || m[2] < 0) return QKV_W_BAD_ARGS;
  if (!f32_at_least(dx_p, dx_n, (int64_t)m[2], 0, &dx) || !f32_at_least(x_p, x_n, (int64_t)m[0] + (int64_t)m[2], 0, &x) ||
      !f32_at_least(g_p, g_n, (int64_t)m[1] + (int64_t)m[2], 0, &g))
    return QKV_W_BOUNDS;
  qkv_gelu_backward(x + (int64_t)m[0], g + (int64_t)m[1], dx, (int64_t)m[2], m[3] != 0);
  return QKV_W_OK;
}

/* adam(p, g, m, v, meta [pOffset, gOffset, n, lr, beta1, beta2, eps, weightDecay, decoupled, stepSize, bias2Sqrt]). */
QKV_EXPORT(qkv_w_adam)
int qkv_w_adam(QKV_F32(p), QKV_F32(g), QKV_F32(mo), QKV_F32(vo), const double *m, int32_t ml) {
  float *p, *g, *mb, *vb;
  if (ml != 11 || m[0] < 0 || m[1] < 0 || m[2] < 0) return QKV_W_BAD_ARGS;
  const int64_t n = (int64_t)m[2];
  if (!f32_at_least(p_p, p_n, (int64_t)m[0] + n, 0, &p) || !f32_at_least(g_p, g_n, (int64_t)m[1] + n, 0, &g) ||
      !f32_at_least(mo_p, mo_n, n, 0, &mb) || !f32_at_least(vo_p, vo_n, n, 0, &vb))
    return QKV_W_BOUNDS;
  qkv_adam_args A = {(float)m[3], (float)m[4], (float)m[5], (float)m[6], (float)m[7], (float)m[9], (float)m[10], m[8] != 0};
  qkv_adam(p + (int64_t)m[0], g + (int64_t)m[1], mb, vb, n, &A);
  return QKV_W_OK;
}

/* An array of `arrays` (pairs of byte address and elements, address 0: null) from element `off`, holding at least n
 * values; null only when `optional`. */
static int array_at(const double *arrays, int i, double off, int64_t n, int optional, const float **p) {
  int32_t addr = (int32_t)arrays[2 * i];
  int64_t len = (int64_t)arrays[2 * i + 1];
  if (addr == 0) { *p = NULL; return optional; }
  if (off < 0 || (int64_t)off + n > len) return 0;
  *p = (const float *)(uintptr_t)addr + (int64_t)off;
  return 1;
}

/* decodeBlock(meta, arrays): arrays = out, x, k, v and the 12 weights in BlockWeights' order as (address, elements)
 * pairs; meta as addon-fused.c's decodeBlock ([B, D, H, F, maxLen, s0, normFirst, gelu, eps, then the offsets of x,
 * k, v and the 12 weights]). */
QKV_EXPORT(qkv_w_decode_block)
int qkv_w_decode_block(const double *m, int32_t ml, const double *arrays, int32_t na) {
  if (ml != 24 || na != 16) return QKV_W_BAD_ARGS;
  qkv_decode_args A;
  memset(&A, 0, sizeof A);
  A.B = (int64_t)m[0]; A.D = (int64_t)m[1]; A.H = (int64_t)m[2]; A.F = (int64_t)m[3]; A.max_len = (int64_t)m[4]; A.s0 = (int64_t)m[5];
  A.norm_first = m[6] != 0; A.gelu = (int)m[7]; A.eps = (float)m[8];
  const int64_t B = A.B, D = A.D, F = A.F;
  if (B < 1 || D < 1 || A.H < 1 || D % A.H != 0 || F < 1 || A.s0 < 0 || A.s0 >= A.max_len || A.gelu < 0 || A.gelu > 2) return QKV_W_BAD_ARGS;
  const int64_t wn[12] = {3 * D * D, 3 * D, D * D, D, D, D, D, D, F * D, F, D * F, D};
  const int wopt[12] = {0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1};
  const float **wp[12] = {&A.in_w, &A.in_b, &A.out_w, &A.out_b, &A.n1_w, &A.n1_b, &A.n2_w, &A.n2_b, &A.l1_w, &A.l1_b, &A.l2_w, &A.l2_b};
  const int64_t cache = B * D * A.max_len;
  const float *out, *x, *k, *v;
  if (!array_at(arrays, 0, 0, B * D, 0, &out) || !array_at(arrays, 1, m[9], B * D, 0, &x) || !array_at(arrays, 2, m[10], cache, 0, &k) ||
      !array_at(arrays, 3, m[11], cache, 0, &v))
    return QKV_W_BOUNDS;
  for (int i = 0; i < 12; i++) {
    if (!array_at(arrays, 4 + i, m[12 + i], wn[i], wopt[i], wp[i])) return QKV_W_BOUNDS;
  }
  A.x = x; A.out = (float *)out; A.k_cache = (float *)k; A.v_cache = (float *)v;
  return qkv_decode_block(&A) ? QKV_W_OK : QKV_W_NO_MEMORY;
}

#define STACK_HEAD 15
#define STACK_MAX_LAYERS 64

/* decodeStack(meta, arrays): arrays = out, ids, then tokEmb, posEmb, normW, normB, head, then per layer k, v and the
 * 12 weights, as (address, elements) pairs; meta as addon-fused.c's decodeStack. QKV_W_OK, or QKV_W_BAD_TARGET with
 * b in qkv_w_result_i64 when ids[b] is not a row of the embedding (nothing written). */
QKV_EXPORT(qkv_w_decode_stack)
int qkv_w_decode_stack(const double *m, int32_t ml, const double *arrays, int32_t na) {
  if (ml < STACK_HEAD) return QKV_W_BAD_ARGS;
  qkv_decode_stack_args A;
  memset(&A, 0, sizeof A);
  A.B = (int64_t)m[0]; A.D = (int64_t)m[1]; A.H = (int64_t)m[2]; A.F = (int64_t)m[3]; A.layers = (int64_t)m[4];
  A.max_len = (int64_t)m[5]; A.s0 = (int64_t)m[6]; A.emb_rows = (int64_t)m[7]; A.vocab = (int64_t)m[8];
  A.norm_first = m[9] != 0; A.gelu = (int)m[10]; A.final_norm = m[11] != 0; A.eps = (float)m[12]; A.norm_eps = (float)m[13];
  const int64_t B = A.B, D = A.D, F = A.F, L = A.layers, entries = 5 + 14 * L;
  if (B < 1 || D < 1 || A.H < 1 || D % A.H != 0 || F < 1 || L < 1 || L > STACK_MAX_LAYERS || A.s0 < 0 || A.s0 >= A.max_len ||
      A.emb_rows < 1 || A.vocab < 1 || ml != STACK_HEAD + entries || na != 2 + entries || A.gelu < 0 || A.gelu > 2)
    return QKV_W_BAD_ARGS;
  const float *out, *ids;
  if (!array_at(arrays, 0, 0, B * A.vocab, 0, &out) || !array_at(arrays, 1, m[14], B, 0, &ids)) return QKV_W_BOUNDS;
  A.ids = (const int32_t *)ids;
  A.logits = (float *)out;
  qkv_decode_layer blocks[STACK_MAX_LAYERS];
  A.blocks = blocks;
  const int64_t head_n[5] = {A.emb_rows * D, (A.s0 + 1) * D, D, D, A.vocab * D};
  const int head_opt[5] = {0, 1, !A.final_norm, !A.final_norm, 0};
  const float **head_p[5] = {&A.tok_emb, &A.pos_emb, &A.norm_w, &A.norm_b, &A.head};
  for (int i = 0; i < 5; i++) {
    if (!array_at(arrays, 2 + i, m[STACK_HEAD + i], head_n[i], head_opt[i], head_p[i])) return QKV_W_BOUNDS;
  }
  const int64_t wn[14] = {B * D * A.max_len, B * D * A.max_len, 3 * D * D, 3 * D, D * D, D, D, D, D, D, F * D, F, D * F, D};
  const int wopt[14] = {0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1};
  for (int64_t l = 0; l < L; l++) {
    qkv_decode_layer *w = &blocks[l];
    const float *k, *v;
    const float **wp[14] = {&k, &v, &w->in_w, &w->in_b, &w->out_w, &w->out_b, &w->n1_w, &w->n1_b, &w->n2_w, &w->n2_b,
                            &w->l1_w, &w->l1_b, &w->l2_w, &w->l2_b};
    for (int j = 0; j < 14; j++) {
      const int64_t i = 5 + 14 * l + j;
      if (!array_at(arrays, 2 + (int)i, m[STACK_HEAD + i], wn[j], wopt[j], wp[j])) return QKV_W_BOUNDS;
    }
    w->k_cache = (float *)k;
    w->v_cache = (float *)v;
  }
  int r = qkv_decode_stack(&A);
  if (r == 0) return QKV_W_NO_MEMORY;
  if (r < 0) {
    qkv_w_result_i64 = -1 - r;
    return QKV_W_BAD_TARGET;
  }
  return QKV_W_OK;
}
