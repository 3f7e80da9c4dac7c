/* A Linear layer on the sgemm driver: y = x·Wᵀ + b (then ReLU) with the bias in the GEMM epilogue, and its
 * backward, whose bias gradient Σ_rows dY is summed from the packed blocks of the dW = dYᵀ·X product; with
 * the driver's helpers for those extras (qkv_sgemm_ex). */
#include <stddef.h>

#include "gemm.h"
#include "pool.h"
#include "strided.h"

/* ---- the extras of qkv_sgemm_ex --------------------------------------------------------------- */

/* The epilogue of rows×cols values of C, row stride rsc: the same float add and compare as the add and relu
 * kernels, so the result equals the composed ops bit for bit. */
void qkv_sgemm_epilogue(float *c, int64_t rsc, int64_t rows, int64_t cols, const float *restrict bias, int relu) {
  for (int64_t i = 0; i < rows; i++) {
    float *restrict ci = c + i * rsc;
    if (bias) for (int64_t j = 0; j < cols; j++) ci[j] += bias[j];
    if (relu) for (int64_t j = 0; j < cols; j++) ci[j] = ci[j] > 0 ? ci[j] : 0.0f;
  }
}

/* out[i] (= or += when acc) Σ_k A(i, k) over a packed A block (panels of mr rows, k-major), read from L2 right
 * after packing, where a separate pass over the unpacked matrix would read it from memory again. A panel is
 * summed as one flat run in L partial sums (L a multiple of mr and of 8, so the adds are whole vectors), and
 * partial sum j belongs to row j mod mr. */
static inline __attribute__((always_inline)) void rowsum_mr(const int mr, int64_t mc, int64_t kc, const float *pa,
                                                            float *out, int acc) {
  enum { LMAX = 56 };
  const int L = mr % 8 == 0 ? mr : mr % 4 == 0 ? 2 * mr : mr % 2 == 0 ? 4 * mr : 8 * mr;
  for (int64_t i0 = 0; i0 < mc; i0 += mr) {
    float s[LMAX] = {0};
    const float *p = pa + i0 * kc;
    int64_t n = kc * mr, t = 0;
    for (; t + L <= n; t += L) {
      for (int j = 0; j < L; j++) s[j] += p[t + j];
    }
    for (int j = 0; t + j < n; j++) s[j] += p[t + j];
    int rows = mc - i0 < mr ? (int)(mc - i0) : mr;
    for (int i = 0; i < rows; i++) {
      float r = 0;
      for (int q = i; q < L; q += mr) r += s[q];
      out[i0 + i] = acc ? out[i0 + i] + r : r;
    }
  }
}

void qkv_sgemm_rowsum_packed(int mr, int64_t mc, int64_t kc, const float *pa, float *out, int acc) {
  switch (mr) {
    case 4: rowsum_mr(4, mc, kc, pa, out, acc); break;
    case 6: rowsum_mr(6, mc, kc, pa, out, acc); break;
    case 8: rowsum_mr(8, mc, kc, pa, out, acc); break;
    case 12: rowsum_mr(12, mc, kc, pa, out, acc); break;
    case 14: rowsum_mr(14, mc, kc, pa, out, acc); break;
    default: {  /* any other tile height: one partial sum per row */
      for (int64_t i0 = 0; i0 < mc; i0 += mr) {
        int rows = mc - i0 < mr ? (int)(mc - i0) : mr;
        for (int i = 0; i < rows; i++) {
          float r = 0;
          for (int64_t k = 0; k < kc; k++) r += pa[i0 * kc + k * mr + i];
          out[i0 + i] = acc ? out[i0 + i] + r : r;
        }
      }
    }
  }
}

/* out[i] = Σ_k A(i, k) read in place, for the paths that do not pack A. */
void qkv_sgemm_rowsum(int64_t M, int64_t K, qkv_fmat a, float *out) {
  for (int64_t i = 0; i < M; i++) {
    double s = 0;
    for (int64_t k = 0; k < K; k++) s += a.p[i * a.rs + k * a.cs];
    out[i] = (float)s;
  }
}

/* ---- the layer ------------------------------------------------------------------------------- */


void qkv_linear_forward(int64_t M, int64_t N, int64_t K, qkv_fmat x, qkv_fmat w, const float *bias, int relu, float *y) {
  /* B(k, j) = W(j, k): the transposed weight is a view, read by the packer through its strides. */
  qkv_fmat wt = {w.p, w.cs, w.rs};
  qkv_sgemm_extras ex = {bias, relu, NULL};
  qkv_sgemm_ex(1, M, N, K, x, 0, wt, 0, y, bias || relu ? &ex : NULL);
}

/* g' = g ⊙ (y > 0) over rows [r0, r1): the ReLU's backward, written contiguous for both products to read. */
typedef struct {
  int64_t M, N;
  qkv_fmat g;
  const float *y;
  float *out;
  int parts;
} mask_job;

static void mask_task(void *ctx, int t, int thread) {
  (void)thread;
  mask_job *J = ctx;
  for (int64_t i = qkv_split(J->M, J->parts, t), end = qkv_split(J->M, J->parts, t + 1); i < end; i++) {
    const float *restrict gi = J->g.p + i * J->g.rs, *restrict yi = J->y + i * J->N;
    float *restrict oi = J->out + i * J->N;
    /* Both values loaded unconditionally: a select the compiler vectorises, not a branch on y's sign. */
    if (J->g.cs == 1) {
      for (int64_t j = 0; j < J->N; j++) {
        float v = gi[j];
        oi[j] = yi[j] > 0 ? v : 0.0f;
      }
    } else {
      for (int64_t j = 0; j < J->N; j++) {
        float v = gi[j * J->g.cs];
        oi[j] = yi[j] > 0 ? v : 0.0f;
      }
    }
  }
}

/* db[j] = Σ_i g(i, j), for a bias gradient without a weight gradient (a frozen weight): 256 columns at a time. */
static void column_sums(int64_t M, int64_t N, qkv_fmat g, float *db) {
  for (int64_t j0 = 0; j0 < N; j0 += 256) {
    int64_t n = N - j0 < 256 ? N - j0 : 256;
    double acc[256] = {0};
    for (int64_t i = 0; i < M; i++) {
      const float *gi = g.p + i * g.rs + j0 * g.cs;
      for (int64_t j = 0; j < n; j++) acc[j] += gi[j * g.cs];
    }
    for (int64_t j = 0; j < n; j++) db[j0 + j] = (float)acc[j];
  }
}

void qkv_linear_backward(int64_t M, int64_t N, int64_t K, qkv_fmat x, qkv_fmat w, qkv_fmat g, const float *y,
                         float *gmask, float *dx, float *dw, float *db) {
  if (y) {
    mask_job J = {M, N, g, y, gmask, 1};
    int T = qkv_pool_threads();
    if (T > 1 && M * N >= QKV_PAR_MIN) J.parts = (int)(M < 4 * T ? M : 4 * T);
    qkv_pool_run(mask_task, &J, J.parts);
    g = (qkv_fmat){gmask, N, 1};
  }
  /* dX = g'·W: [M×N]·[N×K]. */
  if (dx) qkv_sgemm(1, M, K, N, g, 0, w, 0, dx);
  /* dW = g'ᵀ·X: [N×M]·[M×K]; the rows of g'ᵀ summed as they are packed give db. */
  qkv_fmat gt = {g.p, g.cs, g.rs};
  if (dw) {
    qkv_sgemm_extras ex = {NULL, 0, db};
    qkv_sgemm_ex(1, N, K, M, gt, 0, x, 0, dw, db ? &ex : NULL);
  } else if (db) {
    column_sums(M, N, g, db);
  }
}
