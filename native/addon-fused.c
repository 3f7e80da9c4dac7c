/* The Node-API bindings of the fused kernels (softmax, layer norm, attention, cross-entropy, GELU, Adam,
 * dropout masks) and of the one-position decoding steps of a block and of a decoder-only stack. */

#include "addon.h"

/* 1 when v is null/undefined or a typed array of at least n elements. */
static int opt_len(napi_env env, napi_value v, int64_t n) {
  qkv_buf b;
  int got = get_f32_or_null(env, v, &b);
  return got == 2 || (got == 1 && b.len >= n);
}

/* Throws the RangeError (code QKV_BAD_TARGET) that src/backend/native.ts turns into an ArgumentError. */
static napi_value throw_bad_target(napi_env env, const char *fn, const int32_t *t, int64_t at, int64_t V, int64_t ignore) {
  char msg[200];
  snprintf(msg, sizeof msg, "%s: target %d at position %lld is outside [0, %lld) and is not ignoreIndex %lld", fn, (int)t[at],
           (long long)at, (long long)V, (long long)ignore);
  napi_throw_range_error(env, "QKV_BAD_TARGET", msg);
  return NULL;
}

/* softmax(out, x, meta): float32 softmax over the last axis; meta describes x. */
static napi_value js_softmax(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  qkv_buf out, x;
  size_t ml;
  const double *m;
  qkv_iter it;
  int64_t n, sx;
  if (argc < 3 || !get_buf(env, a[0], &out) || !get_buf(env, a[1], &x) || out.dt != QKV_F32 || x.dt != QKV_F32 ||
      !(m = get_meta(env, a[2], &ml)) || !parse_rows(m, ml, &it, &n, &sx))
    FAIL("softmax(out, x, meta): bad arguments");
  if (!rows_fit(&it, n, sx, out.len, x.len)) OUT_OF_BOUNDS("softmax: out or x is smaller than meta gives");
  qkv_softmax(&it, n, sx, out.p, x.p);
  return undefined(env);
}

/* A Float32Array or null/undefined (→ NULL). */
static int get_optional_f32(napi_env env, napi_value v, const float **p) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_null || t == napi_undefined) { *p = NULL; return 1; }
  qkv_buf b;
  if (!get_buf(env, v, &b) || b.dt != QKV_F32) return 0;
  *p = b.p;
  return 1;
}

/* layerNorm(out, mean, rstd, x, meta, weight|null, bias|null, eps): float32 over the last axis; weight
 * and bias are contiguous with the last axis' length; mean and rstd get one value per row. */
static napi_value js_layer_norm(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value a[8];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  qkv_buf out, mean, rstd, x;
  const float *w, *b;
  double eps;
  size_t ml;
  const double *m;
  qkv_iter it;
  int64_t n, sx;
  if (argc < 8 || !get_buf(env, a[0], &out) || !get_buf(env, a[1], &mean) || !get_buf(env, a[2], &rstd) ||
      !get_buf(env, a[3], &x) || out.dt != QKV_F32 || mean.dt != QKV_F32 || rstd.dt != QKV_F32 || x.dt != QKV_F32 ||
      !(m = get_meta(env, a[4], &ml)) || !parse_rows(m, ml, &it, &n, &sx) || !get_optional_f32(env, a[5], &w) ||
      !get_optional_f32(env, a[6], &b) || napi_get_value_double(env, a[7], &eps) != napi_ok)
    FAIL("layerNorm(out, mean, rstd, x, meta, weight, bias, eps): bad arguments");
  int64_t rows = n > 0 ? qkv_iter_numel(&it) : 0;
  if (!rows_fit(&it, n, sx, out.len, x.len) || mean.len < rows || rstd.len < rows || !opt_len(env, a[5], n) || !opt_len(env, a[6], n))
    OUT_OF_BOUNDS("layerNorm: out, mean, rstd, x, weight or bias is smaller than meta gives");
  qkv_layernorm(&it, n, sx, out.p, x.p, w, b, (float)eps, mean.p, rstd.p);
  return undefined(env);
}

/* Reads a Float32Array argument (or fails); `min` is the fewest elements it may hold. */
static int get_f32(napi_env env, napi_value v, float **p, int64_t min) {
  qkv_buf b;
  if (!get_buf(env, v, &b) || b.dt != QKV_F32 || b.len < min) return 0;
  *p = b.p;
  return 1;
}

/* dropoutMask(mask, meta [n, threshold, scale, k0, k1]): mask float32 [n] (src/tensor/ops/functional.ts). */
static napi_value js_dropout_mask(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  float *mask;
  size_t ml;
  const double *m;
  if (argc < 2 || !(m = get_meta(env, a[1], &ml)) || ml != 5 || m[0] < 0 || !get_f32(env, a[0], &mask, (int64_t)m[0]))
    FAIL("dropoutMask(mask, meta): bad arguments");
  qkv_dropout_mask(mask, (int64_t)m[0], m[1], (float)m[2], (uint32_t)m[3], (uint32_t)m[4]);
  return undefined(env);
}

/* layerNormBackward(dx, dw, db, x, g, mean, rstd, weight|null, meta [rows, n, xOffset, gOffset]): x and g hold
 * rows·n contiguous values from their offsets; dx [rows, n], dw [n], db [n]; weight n contiguous values. */
static napi_value js_layer_norm_backward(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value a[9];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  float *dx, *dw, *db, *x, *g, *mean, *rstd;
  const float *w;
  size_t ml;
  const double *m;
  if (argc < 9 || !(m = get_meta(env, a[8], &ml)) || ml != 4) FAIL("layerNormBackward(dx, dw, db, x, g, mean, rstd, weight, meta): bad arguments");
  int64_t rows = (int64_t)m[0], n = (int64_t)m[1], xo = (int64_t)m[2], go = (int64_t)m[3];
  if (rows < 0 || n < 0 || xo < 0 || go < 0 || !get_f32(env, a[0], &dx, rows * n) || !get_f32(env, a[1], &dw, n) ||
      !get_f32(env, a[2], &db, n) || !get_f32(env, a[3], &x, xo + rows * n) || !get_f32(env, a[4], &g, go + rows * n) ||
      !get_f32(env, a[5], &mean, rows) || !get_f32(env, a[6], &rstd, rows) || !get_optional_f32(env, a[7], &w))
    FAIL("layerNormBackward(dx, dw, db, x, g, mean, rstd, weight, meta): bad arguments");
  if (!qkv_layernorm_backward(rows, n, x + xo, g + go, mean, rstd, w, dx, dw, db)) {
    napi_throw_error(env, "QKV_NATIVE", "layerNormBackward: out of memory");
    return NULL;
  }
  return undefined(env);
}

/* Parses attention's meta [B, H, T, S, K, Vd, scale, then (offset, 3 strides) for q, k, v, then the mask's
 * offset and 4 strides, then (offset, batch, head and row strides) for out, dout, dq, dk and dv: 44 numbers; the
 * forward reads only out's] and its q, k, v, mask arguments (at a[0..3]). */
static int get_attention(napi_env env, napi_value *a, const double *m, size_t ml, qkv_attn_args *A) {
  if (ml != 44) return 0;
  memset(A, 0, sizeof *A);
  A->B = (int64_t)m[0]; A->H = (int64_t)m[1]; A->T = (int64_t)m[2]; A->S = (int64_t)m[3]; A->K = (int64_t)m[4]; A->Vd = (int64_t)m[5];
  A->scale = (float)m[6];
  float *q, *k, *v;
  qkv_buf qb, kb, vb;
  if (!get_buf(env, a[0], &qb) || !get_buf(env, a[1], &kb) || !get_buf(env, a[2], &vb) || qb.dt != QKV_F32 || kb.dt != QKV_F32 ||
      vb.dt != QKV_F32)
    return 0;
  q = qb.p; k = kb.p; v = vb.p;
  /* Every element q [B, H, T, K], k [B, H, S, K] and v [B, H, S, Vd] address (last axis contiguous) inside its array. */
  const int64_t B = A->B, H = A->H, T = A->T, S = A->S;
  if (!dims_fit((int64_t)m[7], 4, (const int64_t[4]){B, H, T, A->K}, (const int64_t[4]){(int64_t)m[8], (int64_t)m[9], (int64_t)m[10], 1}, qb.len) ||
      !dims_fit((int64_t)m[11], 4, (const int64_t[4]){B, H, S, A->K}, (const int64_t[4]){(int64_t)m[12], (int64_t)m[13], (int64_t)m[14], 1}, kb.len) ||
      !dims_fit((int64_t)m[15], 4, (const int64_t[4]){B, H, S, A->Vd}, (const int64_t[4]){(int64_t)m[16], (int64_t)m[17], (int64_t)m[18], 1}, vb.len))
    return 0;
  A->q = q + (int64_t)m[7]; A->k = k + (int64_t)m[11]; A->v = v + (int64_t)m[15];
  for (int i = 0; i < 3; i++) { A->sq[i] = (int64_t)m[8 + i]; A->sk[i] = (int64_t)m[12 + i]; A->sv[i] = (int64_t)m[16 + i]; }
  napi_valuetype t;
  if (napi_typeof(env, a[3], &t) != napi_ok) return 0;
  if (t != napi_null && t != napi_undefined) {
    qkv_buf mb;
    if (!get_buf(env, a[3], &mb) || (mb.dt != QKV_F32 && mb.dt != QKV_I32)) return 0;
    if (!dims_fit((int64_t)m[19], 4, (const int64_t[4]){B, H, T, S}, (const int64_t[4]){(int64_t)m[20], (int64_t)m[21], (int64_t)m[22], (int64_t)m[23]}, mb.len))
      return 0;
    A->mask_i32 = mb.dt == QKV_I32;
    A->mask = (const char *)mb.p + (int64_t)m[19] * 4;
    for (int i = 0; i < 4; i++) A->sm[i] = (int64_t)m[20 + i];
  }
  return 1;
}

/* One of out, dout, dq, dk, dv: [B, H, rows, d] at meta's offset and strides (i: 0..4, their order in meta);
 * 0 when the array is not a Float32Array holding every element. */
static int get_attn_rows(napi_env env, napi_value v, const double *m, int i, const qkv_attn_args *A, int64_t rows,
                         int64_t d, float **p, int64_t *st) {
  int64_t off = (int64_t)m[24 + 4 * i];
  for (int j = 0; j < 3; j++) st[j] = (int64_t)m[25 + 4 * i + j];
  if (off < 0 || st[0] < 0 || st[1] < 0 || st[2] < d) return 0;
  int64_t end = A->B == 0 || A->H == 0 || rows == 0 || d == 0 ? off : off + (A->B - 1) * st[0] + (A->H - 1) * st[1] + (rows - 1) * st[2] + d;
  if (!get_f32(env, v, p, end)) return 0;
  *p += off;
  return 1;
}

/* attention(out, lse, q, k, v, mask|null, meta): fused float32 attention forward (see get_attention). */
static napi_value js_attention(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value a[7];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  qkv_attn_args A;
  size_t ml;
  const double *m;
  if (argc < 7 || !(m = get_meta(env, a[6], &ml)) || !get_attention(env, a + 2, m, ml, &A) ||
      !get_attn_rows(env, a[0], m, 0, &A, A.T, A.Vd, &A.out, A.so) || !get_f32(env, a[1], &A.lse, A.B * A.H * A.T))
    FAIL("attention(out, lse, q, k, v, mask, meta): bad arguments");
  if (!qkv_attention_forward(&A)) FAIL("attention: out of memory");
  return undefined(env);
}

/* attentionBackward(dq, dk, dv, dout, out, lse, q, k, v, mask|null, meta): dout, out, lse as the forward left them. */
static napi_value js_attention_backward(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value a[11];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  qkv_attn_args A;
  size_t ml;
  const double *m;
  float *dout;
  if (argc < 11 || !(m = get_meta(env, a[10], &ml)) || !get_attention(env, a + 6, m, ml, &A) ||
      !get_attn_rows(env, a[0], m, 2, &A, A.T, A.K, &A.dq, A.sdq) || !get_attn_rows(env, a[1], m, 3, &A, A.S, A.K, &A.dk, A.sdk) ||
      !get_attn_rows(env, a[2], m, 4, &A, A.S, A.Vd, &A.dv, A.sdv) || !get_attn_rows(env, a[3], m, 1, &A, A.T, A.Vd, &dout, A.sdo) ||
      !get_attn_rows(env, a[4], m, 0, &A, A.T, A.Vd, &A.out, A.so) || !get_f32(env, a[5], &A.lse, A.B * A.H * A.T))
    FAIL("attentionBackward(dq, dk, dv, dout, out, lse, q, k, v, mask, meta): bad arguments");
  A.dout = dout;
  if (!qkv_attention_backward(&A)) FAIL("attentionBackward: out of memory");
  return undefined(env);
}

/* crossEntropy(lse, x, targets, meta [N, V, xOffset, rowStride, ignoreIndex, eps, targetsOffset]) → Σ loss. */
static napi_value js_cross_entropy(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  float *lse, *x;
  qkv_buf t, xb;
  size_t ml;
  const double *m;
  if (argc < 4 || !(m = get_meta(env, a[3], &ml)) || ml != 7 || !get_f32(env, a[0], &lse, (int64_t)m[0]) ||
      !get_buf(env, a[1], &xb) || xb.dt != QKV_F32 || !get_buf(env, a[2], &t) || t.dt != QKV_I32)
    FAIL("crossEntropy(lse, x, targets, meta): bad arguments");
  x = xb.p;
  if (!xent_fits(m, xb.len, t.len)) OUT_OF_BOUNDS("crossEntropy: x or targets is smaller than meta gives");
  int64_t bad = bad_target((const int32_t *)t.p + (int64_t)m[6], (int64_t)m[0], (int64_t)m[1], (int64_t)m[4]);
  if (bad >= 0) return throw_bad_target(env, "crossEntropy", (const int32_t *)t.p + (int64_t)m[6], bad, (int64_t)m[1], (int64_t)m[4]);
  return number(env, qkv_xent_forward((int64_t)m[0], (int64_t)m[1], x + (int64_t)m[2], (int64_t)m[3],
                                      (const int32_t *)t.p + (int64_t)m[6], (int64_t)m[4], (float)m[5], lse));
}

/* crossEntropyBackward(dx, x, lse, targets, meta [N, V, xOffset, rowStride, ignoreIndex, eps, targetsOffset, gscale]). */
static napi_value js_cross_entropy_backward(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  float *dx, *x, *lse;
  qkv_buf t, xb;
  size_t ml;
  const double *m;
  if (argc < 5 || !(m = get_meta(env, a[4], &ml)) || ml != 8 || !get_f32(env, a[0], &dx, (int64_t)m[0] * (int64_t)m[1]) ||
      !get_buf(env, a[1], &xb) || xb.dt != QKV_F32 || !get_f32(env, a[2], &lse, (int64_t)m[0]) || !get_buf(env, a[3], &t) || t.dt != QKV_I32)
    FAIL("crossEntropyBackward(dx, x, lse, targets, meta): bad arguments");
  x = xb.p;
  if (!xent_fits(m, xb.len, t.len)) OUT_OF_BOUNDS("crossEntropyBackward: x or targets is smaller than meta gives");
  int64_t bad = bad_target((const int32_t *)t.p + (int64_t)m[6], (int64_t)m[0], (int64_t)m[1], (int64_t)m[4]);
  if (bad >= 0) return throw_bad_target(env, "crossEntropyBackward", (const int32_t *)t.p + (int64_t)m[6], bad, (int64_t)m[1], (int64_t)m[4]);
  qkv_xent_backward((int64_t)m[0], (int64_t)m[1], x + (int64_t)m[2], (int64_t)m[3], (const int32_t *)t.p + (int64_t)m[6],
                    (int64_t)m[4], (float)m[5], lse, (float)m[7], dx);
  return undefined(env);
}

/* gelu(out, x, meta [xOffset, n, tanhForm]) and geluBackward(dx, x, g, meta [xOffset, gOffset, n, tanhForm]). */
static napi_value js_gelu(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  float *out, *x;
  size_t ml;
  const double *m;
  if (argc < 3 || !(m = get_meta(env, a[2], &ml)) || ml != 3 || !get_f32(env, a[0], &out, (int64_t)m[1]) ||
      !get_f32(env, a[1], &x, (int64_t)m[0] + (int64_t)m[1]))
    FAIL("gelu(out, x, meta): bad arguments");
  qkv_gelu(x + (int64_t)m[0], out, (int64_t)m[1], m[2] != 0);
  return undefined(env);
}

static napi_value js_gelu_backward(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  float *dx, *x, *g;
  size_t ml;
  const double *m;
  if (argc < 4 || !(m = get_meta(env, a[3], &ml)) || ml != 4 || !get_f32(env, a[0], &dx, (int64_t)m[2]) ||
      !get_f32(env, a[1], &x, (int64_t)m[0] + (int64_t)m[2]) || !get_f32(env, a[2], &g, (int64_t)m[1] + (int64_t)m[2]))
    FAIL("geluBackward(dx, x, g, meta): bad arguments");
  qkv_gelu_backward(x + (int64_t)m[0], g + (int64_t)m[1], dx, (int64_t)m[2], m[3] != 0);
  return undefined(env);
}

/* adam(p, g, m, v, meta [pOffset, gOffset, n, lr, beta1, beta2, eps, weightDecay, decoupled, stepSize, bias2Sqrt]):
 * p (at its offset), m and v updated in place. */
static napi_value js_adam(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  float *p, *g, *mb, *vb;
  size_t ml;
  const double *m;
  if (argc < 5 || !(m = get_meta(env, a[4], &ml)) || ml != 11 || !get_f32(env, a[0], &p, (int64_t)m[0] + (int64_t)m[2]) ||
      !get_f32(env, a[1], &g, (int64_t)m[1] + (int64_t)m[2]) || !get_f32(env, a[2], &mb, (int64_t)m[2]) ||
      !get_f32(env, a[3], &vb, (int64_t)m[2]))
    FAIL("adam(p, g, m, v, meta): bad arguments");
  qkv_adam_args A = {(float)m[3], (float)m[4], (float)m[5], (float)m[6], (float)m[7], (float)m[9], (float)m[10], m[8] != 0};
  qkv_adam(p + (int64_t)m[0], g + (int64_t)m[1], mb, vb, (int64_t)m[2], &A);
  return undefined(env);
}

/* A Float32Array holding at least n values from element `off` (*p then points there), or, when `optional`,
 * null/undefined (*p = NULL). */
static int get_f32_at(napi_env env, napi_value v, double off, int64_t n, int optional, const float **p) {
  qkv_buf b;
  int got = get_f32_or_null(env, v, &b);
  if (got == 2) { *p = NULL; return optional; }
  if (!got || off < 0 || (int64_t)off + n > b.len) return 0;
  *p = (const float *)b.p + (int64_t)off;
  return 1;
}

/* decodeBlock(out, x, k, v, inW, inB, outW, outB, n1W, n1B, n2W, n2B, l1W, l1B, l2W, l2B, meta): one decoding step
 * of one block (decode.h). meta = [B, D, H, F, maxLen, s0, normFirst, gelu (0 ReLU, 1 erf, 2 tanh), eps, then the offsets of x, k, v and
 * the 12 weights in argument order]; biases and LayerNorm weights may be null; out [B, D]. */
static napi_value js_decode_block(napi_env env, napi_callback_info info) {
  size_t argc = 17;
  napi_value a[17];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  size_t ml;
  const double *m;
  if (argc < 17 || !(m = get_meta(env, a[16], &ml)) || ml != 24) FAIL("decodeBlock(out, x, k, v, 12 weights, meta): bad arguments");
  qkv_decode_args A;
  memset(&A, 0, sizeof A);
  A.B = (int64_t)m[0]; A.D = (int64_t)m[1]; A.H = (int64_t)m[2]; A.F = (int64_t)m[3]; A.max_len = (int64_t)m[4]; A.s0 = (int64_t)m[5];
  A.norm_first = m[6] != 0; A.gelu = (int)m[7]; A.eps = (float)m[8];
  const int64_t B = A.B, D = A.D, F = A.F;
  if (B < 1 || D < 1 || A.H < 1 || D % A.H != 0 || F < 1 || A.s0 < 0 || A.s0 >= A.max_len) FAIL("decodeBlock: bad sizes in meta");
  if (A.gelu < 0 || A.gelu > 2) FAIL("decodeBlock: meta gelu flag is not 0 (ReLU), 1 (erf) or 2 (tanh)");
  const float *x, *k, *v;
  float *out;
  /* The 12 weights: sizes in argument order, and whether each may be null. */
  const int64_t wn[12] = {3 * D * D, 3 * D, D * D, D, D, D, D, D, F * D, F, D * F, D};
  const int wopt[12] = {0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1};
  const float **wp[12] = {&A.in_w, &A.in_b, &A.out_w, &A.out_b, &A.n1_w, &A.n1_b, &A.n2_w, &A.n2_b, &A.l1_w, &A.l1_b, &A.l2_w, &A.l2_b};
  const int64_t cache = B * D * A.max_len;
  if (!get_f32(env, a[0], &out, B * D) || !get_f32_at(env, a[1], m[9], B * D, 0, &x) || !get_f32_at(env, a[2], m[10], cache, 0, &k) ||
      !get_f32_at(env, a[3], m[11], cache, 0, &v))
    FAIL("decodeBlock: out, x, k or v is not a Float32Array of the size meta gives");
  for (int i = 0; i < 12; i++) {
    if (!get_f32_at(env, a[4 + i], m[12 + i], wn[i], wopt[i], wp[i])) FAIL("decodeBlock: a weight is not a Float32Array of the size meta gives");
  }
  A.x = x; A.out = out; A.k_cache = (float *)k; A.v_cache = (float *)v;
  if (!qkv_decode_block(&A)) FAIL("decodeBlock: out of memory");
  return undefined(env);
}

/* A Float32Array holding at least n values from element `off` (*p then points there), or, when `optional`, null or
 * undefined (*p = NULL): get_f32_at with one Node-API call in the common case, as decodeStack reads ~60 of them a token. */
static int get_f32_fast(napi_env env, napi_value v, double off, int64_t n, int optional, const float **p) {
  napi_typedarray_type type;
  size_t len;
  void *data;
  if (napi_get_typedarray_info(env, v, &type, &len, &data, NULL, NULL) == napi_ok) {
    if (type != napi_float32_array || off < 0 || (int64_t)off + n > (int64_t)len) return 0;
    *p = (const float *)data + (int64_t)off;
    return 1;
  }
  napi_valuetype t;
  if (!optional || napi_typeof(env, v, &t) != napi_ok || (t != napi_null && t != napi_undefined)) return 0;
  *p = NULL;
  return 1;
}

/* decodeStack(out, ids, meta, ...arrays) → 1, or -1 - b when ids[b] is not a row of the embedding: one decoding step
 * of a decoder-only stack (decode.h). arrays = tokEmb, posEmb, normW, normB, head, then per layer k, v and the 12
 * weights in decodeBlock's order; posEmb, the norm and the biases may be null. meta = [B, D, H, F, layers, maxLen, s0,
 * embRows, vocab, normFirst, gelu (0 ReLU, 1 erf, 2 tanh), finalNorm, eps, normEps, idsOffset, then one offset per array]; out [B, vocab].
 * The arrays come as arguments, not in a JS array: reading ~60 elements of one cost more than the step of a small model. */
#define STACK_HEAD 15
#define STACK_MAX_LAYERS 64
/* decodeStack's arguments from a[0] (out, ids), the meta at a[m0] and the arrays after it; with `rows` (1: decodeStackRows,
 * 2: decodeStackPrefill), a[2] holds the rows' positions. */
static napi_value decode_stack_call(napi_env env, napi_callback_info info, int rows) {
  const size_t m0 = rows ? 3 : 2;
  size_t argc = m0 + 1 + 5 + 14 * STACK_MAX_LAYERS;
  napi_value a[4 + 5 + 14 * STACK_MAX_LAYERS];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  size_t ml;
  const double *m;
  if (argc < m0 + 1 || !(m = get_meta(env, a[m0], &ml)) || ml < STACK_HEAD) FAIL("decodeStack(out, ids, meta, ...arrays): bad arguments");
  qkv_decode_stack_args A;
  memset(&A, 0, sizeof A);
  A.B = (int64_t)m[0]; A.D = (int64_t)m[1]; A.H = (int64_t)m[2]; A.F = (int64_t)m[3]; A.layers = (int64_t)m[4];
  A.max_len = (int64_t)m[5]; A.s0 = (int64_t)m[6]; A.emb_rows = (int64_t)m[7]; A.vocab = (int64_t)m[8];
  A.norm_first = m[9] != 0; A.gelu = (int)m[10]; A.final_norm = m[11] != 0; A.eps = (float)m[12]; A.norm_eps = (float)m[13];
  const int64_t B = A.B, D = A.D, F = A.F, L = A.layers, entries = 5 + 14 * L;
  if (B < 1 || D < 1 || A.H < 1 || D % A.H != 0 || F < 1 || L < 1 || L > STACK_MAX_LAYERS || A.s0 < 0 || A.s0 >= A.max_len ||
      A.emb_rows < 1 || A.vocab < 1 || ml != (size_t)(STACK_HEAD + entries) || argc != (size_t)(m0 + 1 + entries))
    FAIL("decodeStack: bad sizes in meta, or not 5 + 14 · layers arrays");
  if (A.gelu < 0 || A.gelu > 2) FAIL("decodeStack: meta gelu flag is not 0 (ReLU), 1 (erf) or 2 (tanh)");
  qkv_buf ids;
  const double ido = m[14];
  if (!get_buf(env, a[1], &ids) || ids.dt != QKV_I32 || ido < 0 || (int64_t)ido + B > ids.len) FAIL("decodeStack: ids is not an Int32Array of B ids");
  A.ids = (const int32_t *)ids.p + (int64_t)ido;
  if (rows) {
    /* Every row's position within [0, s0]: the caches and the position table are checked for s0. */
    qkv_buf pos;
    if (!get_buf(env, a[2], &pos) || pos.dt != QKV_I32 || pos.len < B) FAIL("decodeStackRows: positions is not an Int32Array of B positions");
    A.pos = (const int32_t *)pos.p;
    for (int64_t b = 0; b < B; b++) {
      if (A.pos[b] < 0 || A.pos[b] > A.s0) FAIL("decodeStackRows: a position is outside [0, s0] (meta's largest position)");
      if (rows == 2 && A.pos[b] != A.s0 - (B - 1) + b) FAIL("decodeStackPrefill: positions are not s0 - B + 1, ..., s0 (meta's s0)");
    }
    A.one_row = rows == 2;
  }
  napi_value *arr = a + m0 + 1;
  qkv_decode_layer blocks[STACK_MAX_LAYERS];
  A.blocks = blocks;
  const int64_t head_n[5] = {A.emb_rows * D, (A.s0 + 1) * D, D, D, A.vocab * D};
  const int head_opt[5] = {0, 1, !A.final_norm, !A.final_norm, 0};
  const float **head_p[5] = {&A.tok_emb, &A.pos_emb, &A.norm_w, &A.norm_b, &A.head};
  for (int i = 0; i < 5; i++) {
    if (!get_f32_fast(env, arr[i], m[STACK_HEAD + i], head_n[i], head_opt[i], head_p[i]))
      FAIL("decodeStack: an embedding, the final norm or the head is not a Float32Array of the size meta gives");
  }
  const int64_t cache_rows = A.one_row ? 1 : B;
  const int64_t wn[14] = {cache_rows * D * A.max_len, cache_rows * D * A.max_len, 3 * D * D, 3 * D, D * D, D, D, D, D, D, F * D, F, D * F, D};
  const int wopt[14] = {0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1};
  for (int64_t l = 0; l < L; l++) {
    qkv_decode_layer *w = &blocks[l];
    const float *k, *v;
    const float **wp[14] = {&k, &v, &w->in_w, &w->in_b, &w->out_w, &w->out_b, &w->n1_w, &w->n1_b, &w->n2_w, &w->n2_b,
                            &w->l1_w, &w->l1_b, &w->l2_w, &w->l2_b};
    for (int j = 0; j < 14; j++) {
      const int64_t i = 5 + 14 * l + j;
      if (!get_f32_fast(env, arr[i], m[STACK_HEAD + i], wn[j], wopt[j], wp[j]))
        FAIL("decodeStack: a key or value cache or a block weight is not a Float32Array of the size meta gives");
    }
    w->k_cache = (float *)k;
    w->v_cache = (float *)v;
  }
  float *out;
  if (!get_f32(env, a[0], &out, B * A.vocab)) FAIL("decodeStack: out is not a Float32Array of B · vocab values");
  A.logits = out;
  int r = qkv_decode_stack(&A);
  if (r == 0) {
    napi_throw_error(env, "QKV_NATIVE", "decodeStack: out of memory");
    return NULL;
  }
  return number(env, r);
}

static napi_value js_decode_stack(napi_env env, napi_callback_info info) {
  return decode_stack_call(env, info, 0);
}

/* decodeStackRows(out, ids, positions, meta, ...arrays): decodeStack for rows at their own positions (continuous
 * batching): row b's new token sits at positions[b] (an Int32Array of B, each in [0, s0]) and attends to that row's
 * positions 0..positions[b]; meta's s0 is the largest position (it bounds the caches and the position table). */
static napi_value js_decode_stack_rows(napi_env env, napi_callback_info info) {
  return decode_stack_call(env, info, 1);
}

/* decodeStackPrefill(out, ids, positions, meta, ...arrays): B tokens of one sequence (a prompt) in one call, at
 * positions s0 - B + 1 .. s0 (positions says them again, checked), in caches of one row ([1, H, maxLen, K] each):
 * token b attends to positions 0..s0 - B + 1 + b, what B decodeStack steps of one row compute; out [B, vocab]. */
static napi_value js_decode_stack_prefill(napi_env env, napi_callback_info info) {
  return decode_stack_call(env, info, 2);
}

/* decodeGeluForms() → 3: the decode kernels read meta's gelu flag as 0 ReLU, 1 erf, 2 tanh (an addon built before
 * the tanh form lacks this function and would read 2 as erf; the TypeScript side then keeps gelu_new off it). */
static napi_value js_decode_gelu_forms(napi_env env, napi_callback_info info) {
  (void)info;
  return number(env, 3);
}

/* decodeRowTiles(on?) → whether products of several rows in a decoding step run as one product over the rows (the
 * default) or row by row (decode.h: qkv_decode_row_tiles_enable; the same outputs either way), after setting it when
 * on is given: the switch of the A/B benchmark (bench/decode-rows.ts) and of the checks. */
static napi_value js_decode_row_tiles(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  if (argc >= 1) {
    napi_valuetype t;
    CHECK(napi_typeof(env, a[0], &t));
    if (t != napi_undefined) {
      bool on;
      if (t != napi_boolean || napi_get_value_bool(env, a[0], &on) != napi_ok) FAIL("decodeRowTiles(on?): on is not a boolean");
      qkv_decode_row_tiles_enable(on);
    }
  }
  napi_value r;
  CHECK(napi_get_boolean(env, qkv_decode_row_tiles_enabled() != 0, &r));
  return r;
}

const qkv_binding qkv_fused_bindings[] = {
    {"softmax", js_softmax}, {"layerNorm", js_layer_norm}, {"layerNormBackward", js_layer_norm_backward},
    {"attention", js_attention}, {"attentionBackward", js_attention_backward}, {"crossEntropy", js_cross_entropy},
    {"crossEntropyBackward", js_cross_entropy_backward}, {"gelu", js_gelu}, {"geluBackward", js_gelu_backward},
    {"dropoutMask", js_dropout_mask}, {"adam", js_adam}, {"decodeBlock", js_decode_block}, {"decodeStack", js_decode_stack},
    {"decodeStackRows", js_decode_stack_rows},
    {"decodeGeluForms", js_decode_gelu_forms}, {"decodeRowTiles", js_decode_row_tiles},
    {"decodeStackPrefill", js_decode_stack_prefill},
};
const size_t qkv_fused_binding_count = sizeof qkv_fused_bindings / sizeof qkv_fused_bindings[0];
