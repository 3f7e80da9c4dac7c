/* sgemm for one row of A (decoding one token): no packing, B streamed once. Packing B would copy all of
 * it to use each value once, which costs more than the product: measured 2.5× (B along rows) and 6×
 * (B down columns, x·Wᵀ) faster than the packed path at [1×512]·[512×1536]. With 2 or more rows the
 * packed path wins again, so QKV_SMALL_M is 1. */
#include "gemm.h"
#include "pool.h"
#include "strided.h"

#define LANES 16

typedef struct {
  int64_t M, N, K;
  qkv_fmat a, b;
  float *c;
  int parts;
} small_job;

/* B read along rows (cs == 1): C[0:MR, j:j+JB] = Σ_k A[0:MR, k]·B[k, j:j+JB] with the MR×JB sums held in
 * registers over all of k; B is read once in all. MR and JB are constants at each instantiation. */
#define ROWS_BLOCK(MR, JB)                                                                                    \
  static void rows_block_##MR(const small_job *J, int64_t j, float *restrict c) {                             \
    const float *restrict A = J->a.p, *restrict B = J->b.p + j;                                               \
    float acc[MR][JB] = {{0}};                                                                                \
    for (int64_t k = 0; k < J->K; k++) {                                                                      \
      const float *restrict bk = B + k * J->b.rs;                                                             \
      for (int i = 0; i < MR; i++) {                                                                          \
        float a = A[i * J->a.rs + k * J->a.cs];                                                               \
        for (int l = 0; l < JB; l++) acc[i][l] += a * bk[l];                                                  \
      }                                                                                                       \
    }                                                                                                         \
    for (int i = 0; i < MR; i++) for (int l = 0; l < JB; l++) c[i * J->N + l] = acc[i][l];                   \
  }
ROWS_BLOCK(1, 32)

static void rows_task(const small_job *J, int64_t j0, int64_t j1) {
  int64_t j = j0;
  for (; j + 32 <= j1; j += 32) rows_block_1(J, j, J->c + j);
  for (; j < j1; j++) {  /* the last few columns */
    float s = 0;
    for (int64_t k = 0; k < J->K; k++) s += J->a.p[k * J->a.cs] * J->b.p[k * J->b.rs + j];
    J->c[j] = s;
  }
}

/* B read down columns (rs == 1, x·Wᵀ) with A along rows (cs == 1): each C[i, j] is a dot product of two
 * contiguous runs, summed in 16 lanes. */
static void dots_task(const small_job *J, int64_t j0, int64_t j1) {
  const int64_t M = J->M, N = J->N, K = J->K, bcs = J->b.cs, ars = J->a.rs;
  const float *restrict A = J->a.p, *restrict B = J->b.p;
  for (int64_t j = j0; j < j1; j++) {
    const float *restrict bj = B + j * bcs;
    for (int64_t i = 0; i < M; i++) {
      const float *restrict ai = A + i * ars;
      float acc[LANES] = {0};
      int64_t k = 0;
      for (; k + LANES <= K; k += LANES) {
        for (int l = 0; l < LANES; l++) acc[l] += ai[k + l] * bj[k + l];
      }
      float s = 0;
      for (int l = 0; l < LANES; l++) s += acc[l];
      for (; k < K; k++) s += ai[k] * bj[k];
      J->c[i * N + j] = s;
    }
  }
}

static void small_task(void *ctx, int t, int thread) {
  (void)thread;
  small_job *J = ctx;
  int64_t blocks = (J->N + 31) / 32;
  int64_t j0 = qkv_split(blocks, J->parts, t) * 32, j1 = qkv_split(blocks, J->parts, t + 1) * 32;
  if (j1 > J->N) j1 = J->N;
  if (J->b.cs == 1) rows_task(J, j0, j1);
  else dots_task(J, j0, j1);
}

int qkv_sgemm_small(int64_t M, int64_t N, int64_t K, qkv_fmat a, qkv_fmat b, float *c) {
  if (M > QKV_SMALL_M || K == 0 || !(b.cs == 1 || (b.rs == 1 && a.cs == 1))) return 0;
  small_job J = {M, N, K, a, b, c, 1};
  int T = qkv_pool_threads();
  double work = (double)M * N * K;
  /* Tasks own runs of columns, in multiples of 32 so that register blocks stay whole. */
  if (T > 1 && work >= (1 << 16)) J.parts = (int)(N / 64 < T * 4 ? (N / 64 > 0 ? N / 64 : 1) : T * 4);
  qkv_pool_run(small_task, &J, J.parts);
  return 1;
}
