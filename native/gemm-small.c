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
  int parts, simd;
} small_job;

/* The two loops, written once in plain C and compiled twice: for the baseline instruction set and, on x86-64,
 * for AVX2 + FMA (a function-level target, chosen at run time), since this file is built without -m flags and
 * SSE2 alone halves what a core can stream.
 *
 * B read along rows (cs == 1): C[0, j:j+JB] = Σ_k A[0, k]·B[k, j:j+JB] with the JB sums held in registers
 * over all of k (JB = 64: eight independent ymm accumulators); B is read once in all.
 * B read down columns (rs == 1, x·Wᵀ) with A along rows (cs == 1): four columns of C at a time, each a dot
 * product of two contiguous runs summed in 16 lanes, so eight accumulators hide the FMA latency and each
 * load of A serves four columns. */
#define SMALL_LOOPS(SUFFIX, ATTR)                                                                             \
  ATTR static void rows_##SUFFIX(const small_job *J, int64_t j0, int64_t j1) {                               \
    const float *restrict A = J->a.p;                                                                        \
    const int64_t K = J->K, brs = J->b.rs, acs = J->a.cs;                                                    \
    int64_t j = j0;                                                                                          \
    for (; j + 64 <= j1; j += 64) {                                                                          \
      const float *restrict B = J->b.p + j;                                                                  \
      float acc[64] = {0};                                                                                   \
      for (int64_t k = 0; k < K; k++) {                                                                      \
        float x = A[k * acs];                                                                                \
        for (int l = 0; l < 64; l++) acc[l] += x * B[k * brs + l];                                           \
      }                                                                                                      \
      for (int l = 0; l < 64; l++) J->c[j + l] = acc[l];                                                     \
    }                                                                                                        \
    for (; j + 8 <= j1; j += 8) {                                                                            \
      const float *restrict B = J->b.p + j;                                                                  \
      float acc[8] = {0};                                                                                    \
      for (int64_t k = 0; k < K; k++) {                                                                      \
        float x = A[k * acs];                                                                                \
        for (int l = 0; l < 8; l++) acc[l] += x * B[k * brs + l];                                            \
      }                                                                                                      \
      for (int l = 0; l < 8; l++) J->c[j + l] = acc[l];                                                      \
    }                                                                                                        \
    for (; j < j1; j++) { /* the last few columns */                                                         \
      float s = 0;                                                                                           \
      for (int64_t k = 0; k < K; k++) s += A[k * acs] * J->b.p[k * brs + j];                                \
      J->c[j] = s;                                                                                           \
    }                                                                                                        \
  }                                                                                                          \
  ATTR static void dots_##SUFFIX(const small_job *J, int64_t j0, int64_t j1) {                               \
    const int64_t M = J->M, N = J->N, K = J->K, bcs = J->b.cs, ars = J->a.rs;                                \
    const float *restrict A = J->a.p, *restrict B = J->b.p;                                                  \
    for (int64_t i = 0; i < M; i++) {                                                                        \
      const float *restrict ai = A + i * ars;                                                                \
      int64_t j = j0;                                                                                        \
      for (; j + 4 <= j1; j += 4) {                                                                          \
        const float *restrict b0 = B + j * bcs, *restrict b1 = b0 + bcs, *restrict b2 = b1 + bcs,            \
                              *restrict b3 = b2 + bcs;                                                       \
        float s0[LANES] = {0}, s1[LANES] = {0}, s2[LANES] = {0}, s3[LANES] = {0};                            \
        int64_t k = 0;                                                                                       \
        for (; k + LANES <= K; k += LANES) {                                                                 \
          for (int l = 0; l < LANES; l++) {                                                                  \
            float x = ai[k + l];                                                                             \
            s0[l] += x * b0[k + l]; s1[l] += x * b1[k + l]; s2[l] += x * b2[k + l]; s3[l] += x * b3[k + l];  \
          }                                                                                                  \
        }                                                                                                    \
        float t0 = 0, t1 = 0, t2 = 0, t3 = 0;                                                                \
        for (int l = 0; l < LANES; l++) { t0 += s0[l]; t1 += s1[l]; t2 += s2[l]; t3 += s3[l]; }             \
        for (; k < K; k++) { t0 += ai[k] * b0[k]; t1 += ai[k] * b1[k]; t2 += ai[k] * b2[k]; t3 += ai[k] * b3[k]; } \
        J->c[i * N + j] = t0; J->c[i * N + j + 1] = t1; J->c[i * N + j + 2] = t2; J->c[i * N + j + 3] = t3;  \
      }                                                                                                      \
      for (; j < j1; j++) {                                                                                  \
        const float *restrict bj = B + j * bcs;                                                              \
        float acc[LANES] = {0};                                                                              \
        int64_t k = 0;                                                                                       \
        for (; k + LANES <= K; k += LANES) {                                                                 \
          for (int l = 0; l < LANES; l++) acc[l] += ai[k + l] * bj[k + l];                                   \
        }                                                                                                    \
        float t = 0;                                                                                         \
        for (int l = 0; l < LANES; l++) t += acc[l];                                                         \
        for (; k < K; k++) t += ai[k] * bj[k];                                                               \
        J->c[i * N + j] = t;                                                                                 \
      }                                                                                                      \
    }                                                                                                        \
  }

SMALL_LOOPS(base, )
#if defined(__x86_64__) && defined(__GNUC__)
SMALL_LOOPS(avx2, __attribute__((target("avx2,fma"))))
#endif

/* The AVX2 loops when the CPU has AVX2 + FMA and the chosen micro-kernel is not the portable one (so that
 * checks of the portable kernel run the baseline loops too). */
static int simd_loops(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  static int ok = -1;
  if (ok < 0) {
    __builtin_cpu_init();
    ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }
  return ok && qkv_sgemm_current() != &qkv_sgemm_portable;
#else
  return 0;
#endif
}

static void small_task(void *ctx, int t, int thread) {
  (void)thread;
  small_job *J = ctx;
  int64_t blocks = (J->N + 63) / 64;
  int64_t j0 = qkv_split(blocks, J->parts, t) * 64, j1 = qkv_split(blocks, J->parts, t + 1) * 64;
  if (j1 > J->N) j1 = J->N;
#if defined(__x86_64__) && defined(__GNUC__)
  if (J->simd) {
    if (J->b.cs == 1) rows_avx2(J, j0, j1);
    else dots_avx2(J, j0, j1);
    return;
  }
#endif
  if (J->b.cs == 1) rows_base(J, j0, j1);
  else dots_base(J, j0, j1);
}

int qkv_sgemm_small(int64_t M, int64_t N, int64_t K, qkv_fmat a, qkv_fmat b, float *c) {
  if (M > QKV_SMALL_M || K == 0 || !(b.cs == 1 || (b.rs == 1 && a.cs == 1))) return 0;
  small_job J = {M, N, K, a, b, c, 1, simd_loops()};
  int T = qkv_pool_threads();
  double work = (double)M * N * K;
  /* Tasks own runs of columns, in multiples of 64 so that register blocks stay whole. */
  if (T > 1 && work >= (1 << 16)) J.parts = (int)(N / 64 < T * 4 ? (N / 64 > 0 ? N / 64 : 1) : T * 4);
  qkv_pool_run(small_task, &J, J.parts);
  return 1;
}
