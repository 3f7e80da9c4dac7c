/* The WebAssembly face of the native kernels (what addon.c is to Node-API): plain functions over linear memory.
 *
 * A buffer is three arguments, (byte address, dtype, elements), or two for float32-only ones (address, elements);
 * address 0 is null. Layout metadata is the Float64Array addon.c reads, written by src/backend/wasm.ts into a
 * region of linear memory. Every function checks its arguments as addon.c does and returns a status: QKV_W_OK,
 * or one of the negative codes below (src/backend/wasm-module.ts turns them into errors). */
#include <stdlib.h>

#include "../gemm.h"
#include "../kernels.h"
#include "../meta.h"
#include "../pool.h"
#include "exports.h"

double qkv_w_result_f64;
int64_t qkv_w_result_i64;

QKV_EXPORT(qkv_w_result) double qkv_w_result(void) { return qkv_w_result_f64; }
QKV_EXPORT(qkv_w_result_index) double qkv_w_result_index(void) { return (double)qkv_w_result_i64; }

QKV_EXPORT(qkv_w_malloc) void *qkv_w_malloc(size_t bytes) { return aligned_alloc(16, (bytes + 15) / 16 * 16); }
QKV_EXPORT(qkv_w_free) void qkv_w_free(void *p) { free(p); }

/* A typed buffer from its three arguments; 0 for a dtype code that is not one of qkv_dtype's. */
int qkv_w_buf(int32_t p, int32_t dt, int32_t len, qkv_buf *out) {
  if (dt < QKV_F32 || dt > QKV_I32 || len < 0 || (p == 0 && len > 0)) return 0;
  out->p = (void *)(uintptr_t)p;
  out->dt = (qkv_dtype)dt;
  out->len = len;
  return 1;
}

/* copy(out, x, meta): meta describes x only; out is contiguous. */
QKV_EXPORT(qkv_w_copy)
int qkv_w_copy(QKV_BUF(o), QKV_BUF(x), const double *m, int32_t ml) {
  qkv_buf out, x;
  qkv_iter it;
  if (!qkv_w_buf(o_p, o_dt, o_n, &out) || !qkv_w_buf(x_p, x_dt, x_n, &x) || !parse_iter(m, ml, 1, 1, &it, NULL, NULL)) return QKV_W_BAD_ARGS;
  if (!iter_fits(&it, 0, out.len, 0, 0) || !iter_fits(&it, 1, x.len, 0, 0)) return QKV_W_BOUNDS;
  qkv_copy(&it, out, x);
  return QKV_W_OK;
}

/* assign(dst, src, meta): meta describes dst then src (both strided); src is converted to dst's dtype. */
QKV_EXPORT(qkv_w_assign)
int qkv_w_assign(QKV_BUF(d), QKV_BUF(s), const double *m, int32_t ml) {
  qkv_buf dst, src;
  qkv_iter it;
  if (!qkv_w_buf(d_p, d_dt, d_n, &dst) || !qkv_w_buf(s_p, s_dt, s_n, &src) || !parse_iter(m, ml, 2, 0, &it, NULL, NULL)) return QKV_W_BAD_ARGS;
  if (!iter_fits(&it, 0, dst.len, 0, 0) || !iter_fits(&it, 1, src.len, 0, 0)) return QKV_W_BOUNDS;
  qkv_copy(&it, dst, src);
  return QKV_W_OK;
}

QKV_EXPORT(qkv_w_unary)
int qkv_w_unary(int32_t op, QKV_BUF(o), QKV_BUF(x), const double *m, int32_t ml) {
  qkv_buf out, x;
  qkv_iter it;
  if (op < 0 || op >= QKV_NUNARY || !qkv_w_buf(o_p, o_dt, o_n, &out) || !qkv_w_buf(x_p, x_dt, x_n, &x) || out.dt != x.dt ||
      !parse_iter(m, ml, 1, 1, &it, NULL, NULL))
    return QKV_W_BAD_ARGS;
  if (!iter_fits(&it, 0, out.len, 0, 0) || !iter_fits(&it, 1, x.len, 0, 0)) return QKV_W_BOUNDS;
  qkv_unary(op, &it, out, x);
  return QKV_W_OK;
}

/* binary(op, out, a, b, meta): meta describes a then b. */
QKV_EXPORT(qkv_w_binary)
int qkv_w_binary(int32_t op, QKV_BUF(o), QKV_BUF(a), QKV_BUF(b), const double *m, int32_t ml) {
  qkv_buf out, x, y;
  qkv_iter it;
  if (op < 0 || op >= QKV_NBINARY || !qkv_w_buf(o_p, o_dt, o_n, &out) || !qkv_w_buf(a_p, a_dt, a_n, &x) ||
      !qkv_w_buf(b_p, b_dt, b_n, &y) || x.dt != out.dt || y.dt != out.dt || !parse_iter(m, ml, 2, 1, &it, NULL, NULL))
    return QKV_W_BAD_ARGS;
  if (!iter_fits(&it, 0, out.len, 0, 0) || !iter_fits(&it, 1, x.len, 0, 0) || !iter_fits(&it, 2, y.len, 0, 0)) return QKV_W_BOUNDS;
  qkv_binary(op, &it, out, x, y);
  return QKV_W_OK;
}

/* where(out, cond, a, b, meta): meta describes cond, a, b. */
QKV_EXPORT(qkv_w_where)
int qkv_w_where(QKV_BUF(o), QKV_BUF(c), QKV_BUF(a), QKV_BUF(b), const double *m, int32_t ml) {
  qkv_buf out, cond, x, y;
  qkv_iter it;
  if (!qkv_w_buf(o_p, o_dt, o_n, &out) || !qkv_w_buf(c_p, c_dt, c_n, &cond) || !qkv_w_buf(a_p, a_dt, a_n, &x) ||
      !qkv_w_buf(b_p, b_dt, b_n, &y) || x.dt != out.dt || y.dt != out.dt || !parse_iter(m, ml, 3, 1, &it, NULL, NULL))
    return QKV_W_BAD_ARGS;
  if (!iter_fits(&it, 0, out.len, 0, 0) || !iter_fits(&it, 1, cond.len, 0, 0) || !iter_fits(&it, 2, x.len, 0, 0) ||
      !iter_fits(&it, 3, y.len, 0, 0))
    return QKV_W_BOUNDS;
  qkv_where(&it, out, cond, x, y);
  return QKV_W_OK;
}

/* reduce(op, out, x, meta, axis): meta describes x; out is x's shape with `axis` of size 1, contiguous. */
QKV_EXPORT(qkv_w_reduce)
int qkv_w_reduce(int32_t op, QKV_BUF(o), QKV_BUF(x), const double *m, int32_t ml, int32_t axis) {
  qkv_buf out, x;
  if (op < 0 || op >= QKV_NREDUCE || !qkv_w_buf(o_p, o_dt, o_n, &out) || !qkv_w_buf(x_p, x_dt, x_n, &x)) return QKV_W_BAD_ARGS;
  int nd = ml >= 1 ? (int)m[0] : -1;
  if (nd < 1 || nd > QKV_MAXDIM || ml != 2 + 2 * nd || axis < 0 || axis >= nd) return QKV_W_BAD_ARGS;
  int64_t shape[QKV_MAXDIM], offsets[2] = {0, (int64_t)m[1 + nd]}, strides[2][QKV_MAXDIM];
  int od = 0;
  for (int d = 0; d < nd; d++) {
    if (d == axis) continue;
    shape[od] = (int64_t)m[1 + d];
    strides[1][od] = (int64_t)m[2 + nd + d];
    od++;
  }
  int64_t s = 1;
  for (int d = od - 1; d >= 0; d--) { strides[0][d] = s; s *= shape[d]; }
  qkv_iter it;
  qkv_iter_init(&it, od, shape, 2, offsets, (const int64_t(*)[QKV_MAXDIM])strides);
  int64_t alen = (int64_t)m[1 + axis], astride = (int64_t)m[2 + nd + axis], aspan = alen > 0 ? (alen - 1) * astride : 0;
  if ((alen > 0 && qkv_iter_numel(&it) > 0 && !iter_fits(&it, 1, x.len, aspan < 0 ? aspan : 0, aspan > 0 ? aspan : 0)) ||
      !iter_fits(&it, 0, out.len, 0, 0))
    return QKV_W_BOUNDS;
  qkv_reduce(op, &it, alen, astride, out, x);
  return QKV_W_OK;
}

/* matmul(out, a, b, meta [N, M, K, P, offA, sa0, sa1, sa2, offB, sb0, sb1, sb2]). */
QKV_EXPORT(qkv_w_matmul)
int qkv_w_matmul(QKV_BUF(o), QKV_BUF(a), QKV_BUF(b), const double *m, int32_t ml) {
  qkv_buf out, x, y;
  if (!qkv_w_buf(o_p, o_dt, o_n, &out) || !qkv_w_buf(a_p, a_dt, a_n, &x) || !qkv_w_buf(b_p, b_dt, b_n, &y) || x.dt != out.dt ||
      y.dt != out.dt || ml != 12)
    return QKV_W_BAD_ARGS;
  int64_t sa[4], sb[4];
  for (int i = 0; i < 4; i++) { sa[i] = (int64_t)m[4 + i]; sb[i] = (int64_t)m[8 + i]; }
  int64_t N = (int64_t)m[0], M = (int64_t)m[1], K = (int64_t)m[2], P = (int64_t)m[3];
  if (N < 0 || M < 0 || K < 0 || P < 0 || N * M * P > out.len) return QKV_W_BOUNDS;
  if (!dims_fit(sa[0], 3, (const int64_t[3]){N, M, K}, sa + 1, x.len) || !dims_fit(sb[0], 3, (const int64_t[3]){N, K, P}, sb + 1, y.len))
    return QKV_W_BOUNDS;
  qkv_matmul(N, M, P, K, out, x, sa, y, sb);
  return QKV_W_OK;
}

/* indexSelect(out, table, ids, meta [R, C, off, rowStride, colStride, idsOff, idsStride, n]): QKV_W_OK, with the
 * position of the first id out of range (or -1) in qkv_w_result_index. */
QKV_EXPORT(qkv_w_index_select)
int qkv_w_index_select(QKV_BUF(o), QKV_BUF(t), int32_t ids_p, int32_t ids_n, const double *m, int32_t ml) {
  qkv_buf out, tab, ids;
  if (!qkv_w_buf(o_p, o_dt, o_n, &out) || !qkv_w_buf(t_p, t_dt, t_n, &tab) || !qkv_w_buf(ids_p, QKV_I32, ids_n, &ids) ||
      out.dt != tab.dt || ml != 8)
    return QKV_W_BAD_ARGS;
  int64_t st[3] = {(int64_t)m[2], (int64_t)m[3], (int64_t)m[4]};
  int64_t R = (int64_t)m[0], C = (int64_t)m[1], n = (int64_t)m[7];
  if (R < 0 || C < 0 || n < 0 || n * C > out.len || !block_fits(st[0], R, st[1], C, st[2], tab.len) ||
      !block_fits((int64_t)m[5], n, (int64_t)m[6], 1, 1, ids.len))
    return QKV_W_BOUNDS;
  qkv_w_result_i64 = qkv_index_select(out, tab, R, C, st, ids, (int64_t)m[5], (int64_t)m[6], n);
  return QKV_W_OK;
}

/* indexAdd(out, src, ids, meta [rows, C, off, rowStride, colStride, idsOff, idsStride, n]): as indexSelect. */
QKV_EXPORT(qkv_w_index_add)
int qkv_w_index_add(QKV_BUF(o), QKV_BUF(s), int32_t ids_p, int32_t ids_n, const double *m, int32_t ml) {
  qkv_buf out, src, ids;
  if (!qkv_w_buf(o_p, o_dt, o_n, &out) || !qkv_w_buf(s_p, s_dt, s_n, &src) || !qkv_w_buf(ids_p, QKV_I32, ids_n, &ids) ||
      out.dt != src.dt || ml != 8)
    return QKV_W_BAD_ARGS;
  int64_t st[3] = {(int64_t)m[2], (int64_t)m[3], (int64_t)m[4]};
  int64_t rows = (int64_t)m[0], C = (int64_t)m[1], n = (int64_t)m[7];
  if (rows < 0 || C < 0 || n < 0 || rows * C > out.len || !block_fits(st[0], n, st[1], C, st[2], src.len) ||
      !block_fits((int64_t)m[5], n, (int64_t)m[6], 1, 1, ids.len))
    return QKV_W_BOUNDS;
  qkv_w_result_i64 = qkv_index_add(out, rows, C, src, st, ids, (int64_t)m[5], (int64_t)m[6], n);
  return QKV_W_OK;
}

/* A float32 matrix operand of rows×cols values at m = [offset, row stride, column stride] inside the buffer
 * (p, n), every element checked to lie inside it; p = 0 is null (out->p = NULL), allowed when `optional`. */
static int get_fmat(int32_t p, int32_t n, const double *m, int64_t rows, int64_t cols, int optional, qkv_fmat *out) {
  if (p == 0) { out->p = NULL; return optional; }
  if (rows < 0 || cols < 0 || n < 0) return 0;
  int64_t off = (int64_t)m[0], rs = (int64_t)m[1], cs = (int64_t)m[2], lo = off, hi = off;
  if (rows > 0 && cols > 0) {
    lo += (rs < 0 ? rs * (rows - 1) : 0) + (cs < 0 ? cs * (cols - 1) : 0);
    hi += (rs > 0 ? rs * (rows - 1) : 0) + (cs > 0 ? cs * (cols - 1) : 0);
    if (lo < 0 || hi >= n) return 0;
  }
  *out = (qkv_fmat){(const float *)(uintptr_t)p + off, rs, cs};
  return 1;
}

/* linear(y, x, w, bias, meta [M, N, K, x: offset, row and column strides, w: the same, bias offset, relu]). */
QKV_EXPORT(qkv_w_linear)
int qkv_w_linear(QKV_F32(y), QKV_F32(x), QKV_F32(w), QKV_F32(b), const double *m, int32_t ml) {
  if (ml != 11) return QKV_W_BAD_ARGS;
  int64_t M = (int64_t)m[0], N = (int64_t)m[1], K = (int64_t)m[2];
  const double bias_meta[3] = {m[9], 0, 1};
  qkv_fmat y, x, w, b;
  if (!get_fmat(y_p, y_n, (const double[3]){0, N, 1}, M, N, 0, &y) || !get_fmat(x_p, x_n, m + 3, M, K, 0, &x) ||
      !get_fmat(w_p, w_n, m + 6, N, K, 0, &w) || !get_fmat(b_p, b_n, bias_meta, 1, N, 1, &b))
    return QKV_W_BOUNDS;
  qkv_linear_forward(M, N, K, x, w, b.p, m[10] != 0, (float *)y.p);
  return QKV_W_OK;
}

/* linearBackward(dx, dw, db, g, x, w, y, gmask, meta [M, N, K, then offset, row and column strides of x, w and g]);
 * dx, dw, db may be null (not wanted); y and gmask only after a ReLU. */
QKV_EXPORT(qkv_w_linear_backward)
int qkv_w_linear_backward(QKV_F32(dx), QKV_F32(dw), QKV_F32(db), QKV_F32(g), QKV_F32(x), QKV_F32(w), QKV_F32(y), QKV_F32(gm),
                          const double *m, int32_t ml) {
  if (ml != 12) return QKV_W_BAD_ARGS;
  int64_t M = (int64_t)m[0], N = (int64_t)m[1], K = (int64_t)m[2];
  qkv_fmat dX, dW, dB, G, X, W, Y, GM;
  if (!get_fmat(dx_p, dx_n, (const double[3]){0, K, 1}, M, K, 1, &dX) || !get_fmat(dw_p, dw_n, (const double[3]){0, K, 1}, N, K, 1, &dW) ||
      !get_fmat(db_p, db_n, (const double[3]){0, N, 1}, 1, N, 1, &dB) || !get_fmat(g_p, g_n, m + 9, M, N, 0, &G) ||
      !get_fmat(x_p, x_n, m + 3, M, K, 0, &X) || !get_fmat(w_p, w_n, m + 6, N, K, 0, &W) ||
      !get_fmat(y_p, y_n, (const double[3]){0, N, 1}, M, N, 1, &Y) || !get_fmat(gm_p, gm_n, (const double[3]){0, N, 1}, M, N, 1, &GM) ||
      (Y.p && !GM.p))
    return QKV_W_BOUNDS;
  qkv_linear_backward(M, N, K, X, W, G, Y.p, (float *)GM.p, (float *)dX.p, (float *)dW.p, (float *)dB.p);
  return QKV_W_OK;
}

/* The sgemm micro-kernel in use: its name as a NUL-terminated string in linear memory. */
QKV_EXPORT(qkv_w_gemm_kernel) const char *qkv_w_gemm_kernel(void) { return qkv_sgemm_current()->name; }

/* sgemmNaive(out, a, b, meta): the version-0 oracle, float32, matmul's meta; bounds as matmul's. */
QKV_EXPORT(qkv_w_sgemm_naive)
int qkv_w_sgemm_naive(QKV_F32(o), QKV_F32(a), QKV_F32(b), const double *m, int32_t ml) {
  if (ml != 12 || o_n < 0 || a_n < 0 || b_n < 0) return QKV_W_BAD_ARGS;
  int64_t sa[4], sb[4];
  for (int i = 0; i < 4; i++) { sa[i] = (int64_t)m[4 + i]; sb[i] = (int64_t)m[8 + i]; }
  int64_t N = (int64_t)m[0], M = (int64_t)m[1], K = (int64_t)m[2], P = (int64_t)m[3];
  if (N < 0 || M < 0 || K < 0 || P < 0 || N * M * P > o_n || !dims_fit(sa[0], 3, (const int64_t[3]){N, M, K}, sa + 1, a_n) ||
      !dims_fit(sb[0], 3, (const int64_t[3]){N, K, P}, sb + 1, b_n))
    return QKV_W_BOUNDS;
  qkv_fmat A = {(const float *)(uintptr_t)a_p + sa[0], sa[2], sa[3]};
  qkv_fmat B = {(const float *)(uintptr_t)b_p + sb[0], sb[2], sb[3]};
  qkv_sgemm_naive(N, M, P, K, A, sa[1], B, sb[1], (float *)(uintptr_t)o_p);
  return QKV_W_OK;
}
