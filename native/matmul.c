/* matmul for every dtype: float32 goes to the BLIS-style sgemm; float64 and int32 use a plain
 * per-element dot product in ref's order (they serve gradient checks and ids, not training). */
#include "gemm.h"
#include "kernels.h"
#include "pool.h"

typedef struct {
  int64_t M, N, K;
  qkv_buf out, a, b;
  const int64_t *sa, *sb;
  int64_t rows, parts;
} mm_ctx;

#define DOT_ROWS(T, STORE)                                                              \
  static void rows_##T(mm_ctx *C, int64_t r0, int64_t r1) {                             \
    const T *A = C->a.p, *B = C->b.p;                                                   \
    T *O = C->out.p;                                                                    \
    const int64_t *sa = C->sa, *sb = C->sb;                                             \
    for (int64_t r = r0; r < r1; r++) {                                                 \
      int64_t n = r / C->M, m = r % C->M;                                               \
      const T *ar = A + sa[0] + n * sa[1] + m * sa[2];                                  \
      for (int64_t p = 0; p < C->N; p++) {                                              \
        const T *bc = B + sb[0] + n * sb[1] + p * sb[3];                                \
        double s = 0;                                                                   \
        for (int64_t k = 0; k < C->K; k++) s += (double)ar[k * sa[3]] * (double)bc[k * sb[2]]; \
        O[r * C->N + p] = STORE(s);                                                     \
      }                                                                                 \
    }                                                                                   \
  }
#define KEEP(s) (s)
typedef double f64;
typedef int32_t i32;
DOT_ROWS(f64, KEEP)
DOT_ROWS(i32, qkv_to_int32)

static void dot_task(void *ctx, int t, int thread) {
  (void)thread;
  mm_ctx *C = ctx;
  int64_t r0 = qkv_split(C->rows, (int)C->parts, t), r1 = qkv_split(C->rows, (int)C->parts, t + 1);
  if (C->a.dt == QKV_F64) rows_f64(C, r0, r1);
  else rows_i32(C, r0, r1);
}

void qkv_matmul(int64_t batch, int64_t M, int64_t N, int64_t K, qkv_buf out, qkv_buf a, const int64_t sa[4],
                qkv_buf b, const int64_t sb[4]) {
  if (a.dt == QKV_F32) {
    qkv_fmat A = {(const float *)a.p + sa[0], sa[2], sa[3]}, B = {(const float *)b.p + sb[0], sb[2], sb[3]};
    qkv_sgemm(batch, M, N, K, A, sa[1], B, sb[1], out.p);
    return;
  }
  mm_ctx C = {M, N, K, out, a, b, sa, sb, batch * M, 1};
  double work = (double)batch * M * N * (K + 1);
  int T = qkv_pool_threads();
  C.parts = work < QKV_PAR_MIN || T == 1 ? 1 : (C.rows < T ? C.rows : T);
  qkv_pool_run(dot_task, &C, (int)C.parts);
}
