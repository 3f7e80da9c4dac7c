/* The strided iterator: coalescing axes, walking rows, and splitting rows over the pool. */
#include "strided.h"

#include "pool.h"

void qkv_iter_init(qkv_iter *it, int nd, const int64_t *shape, int nops, const int64_t *offsets,
                   const int64_t (*strides)[QKV_MAXDIM]) {
  it->nops = nops;
  for (int k = 0; k < nops; k++) it->offset[k] = offsets[k];
  int out = 0;
  for (int d = 0; d < nd; d++) {
    if (shape[d] == 1) continue;
    if (shape[d] == 0) { out = 0; it->shape[0] = 0; for (int k = 0; k < nops; k++) it->strides[k][0] = 1; it->nd = 1; return; }
    /* Merge into the previous axis when every operand steps over it by exactly one of these. */
    int merge = out > 0;
    for (int k = 0; k < nops && merge; k++) {
      if (it->strides[k][out - 1] != strides[k][d] * shape[d]) merge = 0;
    }
    if (merge) {
      it->shape[out - 1] *= shape[d];
      for (int k = 0; k < nops; k++) it->strides[k][out - 1] = strides[k][d];
    } else {
      it->shape[out] = shape[d];
      for (int k = 0; k < nops; k++) it->strides[k][out] = strides[k][d];
      out++;
    }
  }
  if (out == 0) {  /* a scalar: one row of one element */
    it->shape[0] = 1;
    for (int k = 0; k < nops; k++) it->strides[k][0] = 1;
    out = 1;
  }
  it->nd = out;
}

int64_t qkv_iter_numel(const qkv_iter *it) {
  int64_t n = 1;
  for (int d = 0; d < it->nd; d++) n *= it->shape[d];
  return n;
}

/* Rows [r0, r1) on the calling thread. */
static void run_rows(const qkv_iter *it, qkv_row_fn fn, void *ctx, int64_t r0, int64_t r1) {
  int nd = it->nd, nops = it->nops;
  int64_t idx[QKV_MAXDIM], off[QKV_MAXOPS], st[QKV_MAXOPS];
  int64_t rem = r0;
  for (int k = 0; k < nops; k++) { off[k] = it->offset[k]; st[k] = it->strides[k][nd - 1]; }
  for (int d = nd - 2; d >= 0; d--) {
    idx[d] = rem % it->shape[d];
    rem /= it->shape[d];
    for (int k = 0; k < nops; k++) off[k] += idx[d] * it->strides[k][d];
  }
  int64_t n = it->shape[nd - 1];
  for (int64_t r = r0; r < r1; r++) {
    fn(ctx, n, off, st);
    for (int d = nd - 2; d >= 0; d--) {
      for (int k = 0; k < nops; k++) off[k] += it->strides[k][d];
      if (++idx[d] < it->shape[d]) break;
      for (int k = 0; k < nops; k++) off[k] -= it->strides[k][d] * it->shape[d];
      idx[d] = 0;
    }
  }
}

typedef struct {
  const qkv_iter *it;
  qkv_row_fn fn;
  void *ctx;
  int64_t rows;
  int parts;
} run_job;

static void run_part(void *ctx, int t, int thread) {
  (void)thread;
  run_job *J = ctx;
  run_rows(J->it, J->fn, J->ctx, qkv_split(J->rows, J->parts, t), qkv_split(J->rows, J->parts, t + 1));
}

void qkv_iter_run(const qkv_iter *it, qkv_row_fn fn, void *ctx) { qkv_iter_run_cost(it, fn, ctx, 1); }

void qkv_iter_run_cost(const qkv_iter *it, qkv_row_fn fn, void *ctx, int64_t cost) {
  int64_t n = qkv_iter_numel(it);
  if (n == 0) return;
  int64_t rows = n / it->shape[it->nd - 1];
  int T = qkv_pool_threads();
  if (T == 1 || (double)n * (cost > 1 ? cost : 1) < QKV_PAR_MIN) { run_rows(it, fn, ctx, 0, rows); return; }
  if (rows < T) {
    /* One long row: cut it into pieces, each a row of its own. */
    if (it->nd == 1) {
      qkv_iter sub = *it;
      int64_t len = it->shape[0];
      sub.nd = 2;
      int parts = T;
      int64_t piece = (len + parts - 1) / parts;
      sub.shape[0] = (len + piece - 1) / piece;
      sub.shape[1] = piece;
      for (int k = 0; k < it->nops; k++) { sub.strides[k][1] = it->strides[k][0]; sub.strides[k][0] = it->strides[k][0] * piece; }
      if (sub.shape[0] * piece == len) { qkv_iter_run_cost(&sub, fn, ctx, cost); return; }
      /* Uneven: the last piece is shorter; run the even part split, the tail inline. */
      int64_t even = (len / piece) * piece;
      sub.shape[0] = len / piece;
      qkv_iter_run_cost(&sub, fn, ctx, cost);
      int64_t off[QKV_MAXOPS], st[QKV_MAXOPS];
      for (int k = 0; k < it->nops; k++) { off[k] = it->offset[k] + even * it->strides[k][0]; st[k] = it->strides[k][0]; }
      fn(ctx, len - even, off, st);
      return;
    }
    run_rows(it, fn, ctx, 0, rows);
    return;
  }
  run_job J = {it, fn, ctx, rows, T};
  qkv_pool_run(run_part, &J, T);
}
