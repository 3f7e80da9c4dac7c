/* The backend contract's kernels in C, one function per contract method (addon.c binds them to JS). */
#ifndef QKV_KERNELS_H
#define QKV_KERNELS_H

#include "strided.h"

/* Op codes, in the order of the UnaryOp, BinaryOp and ReduceOp unions in src/backend/backend.ts. */
enum { QKV_NEG, QKV_EXP, QKV_LOG, QKV_SQRT, QKV_TANH, QKV_RELU, QKV_STEP, QKV_ERF, QKV_ABS, QKV_RECIP, QKV_NUNARY };
enum { QKV_ADD, QKV_SUB, QKV_MUL, QKV_DIV, QKV_POW, QKV_MAX, QKV_MIN, QKV_EQ, QKV_LT, QKV_GT, QKV_NBINARY };
enum { QKV_SUM, QKV_RMAX, QKV_ARGMAX, QKV_NREDUCE };

/* Each iterator's operand 0 is the output; the rest are the inputs in argument order. */
void qkv_copy(const qkv_iter *it, qkv_buf out, qkv_buf x);
void qkv_unary(int op, const qkv_iter *it, qkv_buf out, qkv_buf x);
/* out, a and b share one dtype. */
void qkv_binary(int op, const qkv_iter *it, qkv_buf out, qkv_buf a, qkv_buf b);
/* cond may have any dtype; out, a and b share one. */
void qkv_where(const qkv_iter *it, qkv_buf out, qkv_buf cond, qkv_buf a, qkv_buf b);

/* Reduces over an axis of length len and stride axis_stride; `it` walks the other axes (operand 0 the
 * contiguous output, operand 1 the input's first element along the axis). */
void qkv_reduce(int op, const qkv_iter *it, int64_t len, int64_t axis_stride, qkv_buf out, qkv_buf x);

/* a [batch, M, K] · b [batch, K, N] → out [batch, M, N]; sa/sb are (offset, batch, row, column) strides. */
void qkv_matmul(int64_t batch, int64_t M, int64_t N, int64_t K, qkv_buf out, qkv_buf a, const int64_t sa[4],
                qkv_buf b, const int64_t sb[4]);

/* out [n, C] = rows ids[i] of table [R, C] (st = offset, row, column strides); ids int32, contiguous
 * after ids_off. Returns -1, or the position of the first id outside [0, R) (nothing written then). */
int64_t qkv_index_select(qkv_buf out, qkv_buf table, int64_t R, int64_t C, const int64_t st[3],
                         qkv_buf ids, int64_t ids_off, int64_t ids_stride, int64_t n);
/* out [rows, C] (zeroed by the caller) += src [n, C] at rows ids[i], in order of i. Same return. */
int64_t qkv_index_add(qkv_buf out, int64_t rows, int64_t C, qkv_buf src, const int64_t st[3],
                      qkv_buf ids, int64_t ids_off, int64_t ids_stride, int64_t n);

#endif
