/* Layout metadata shared by the Node-API binding (addon*.c) and the WebAssembly exports (wasm/exports*.c):
 * parsing the Float64Array metadata and checking that every element a view addresses lies inside its buffer. */
#ifndef QKV_META_H
#define QKV_META_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "strided.h"

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


/* Builds the row iterator of a last-axis kernel from x's metadata: rows are x's leading axes; operand 0
 * is the contiguous output (row stride n), operand 1 x's row starts. Returns 0 on malformed metadata. */
static inline int parse_rows(const double *m, size_t ml, qkv_iter *it, int64_t *n, int64_t *sx) {
  int nd = ml >= 1 ? (int)m[0] : -1;
  if (nd < 1 || nd > QKV_MAXDIM || ml != (size_t)(2 + 2 * nd)) return 0;
  int64_t shape[QKV_MAXDIM], offsets[2] = {0, (int64_t)m[1 + nd]}, strides[2][QKV_MAXDIM];
  *n = (int64_t)m[nd];
  *sx = (int64_t)m[1 + nd + nd];
  int64_t s = *n;
  for (int d = nd - 2; d >= 0; d--) {
    shape[d] = (int64_t)m[1 + d];
    strides[0][d] = s;
    strides[1][d] = (int64_t)m[2 + nd + d];
    s *= shape[d];
  }
  qkv_iter_init(it, nd - 1, shape, 2, offsets, (const int64_t(*)[QKV_MAXDIM])strides);
  return 1;
}

/* 1 when a last-axis kernel's rows (n elements at stride sx from each row start of operand 1) lie inside x, and
 * its contiguous output rows inside out. */
static inline int rows_fit(const qkv_iter *it, int64_t n, int64_t sx, int64_t out_len, int64_t x_len) {
  if (n <= 0 || qkv_iter_numel(it) == 0) return 1;
  int64_t span = (n - 1) * sx;
  return iter_fits(it, 0, out_len, 0, n - 1) && iter_fits(it, 1, x_len, span < 0 ? span : 0, span > 0 ? span : 0);
}


/* Every target in [0, V) or equal to ignore: -1, else the position of the first that is not (C reads x[target]). */
static inline int64_t bad_target(const int32_t *t, int64_t N, int64_t V, int64_t ignore) {
  for (int64_t i = 0; i < N; i++) {
    if (t[i] != ignore && (t[i] < 0 || t[i] >= V)) return i;
  }
  return -1;
}


/* 1 when crossEntropy's logits (N rows of V at row stride sx from off) lie in x and its N targets from toff in t. */
static inline int xent_fits(const double *m, int64_t x_len, int64_t t_len) {
  int64_t N = (int64_t)m[0], V = (int64_t)m[1], toff = (int64_t)m[6];
  if (N < 0 || V < 0 || toff < 0 || toff + N > t_len) return 0;
  return block_fits((int64_t)m[2], N, (int64_t)m[3], V, 1, x_len);
}

#endif
