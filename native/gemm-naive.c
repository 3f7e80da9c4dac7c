/* sgemm version 0: the obviously correct triple loop every faster version is checked against. */
#include "gemm.h"

void qkv_sgemm_naive(int64_t batch, int64_t M, int64_t N, int64_t K,
                     qkv_fmat a, int64_t bsa, qkv_fmat b, int64_t bsb, float *c) {
  for (int64_t n = 0; n < batch; n++) {
    const float *an = a.p + n * bsa;
    const float *bn = b.p + n * bsb;
    float *cn = c + n * M * N;
    for (int64_t i = 0; i < M; i++) {
      for (int64_t j = 0; j < N; j++) {
        double s = 0;
        for (int64_t k = 0; k < K; k++) s += (double)an[i * a.rs + k * a.cs] * bn[k * b.rs + j * b.cs];
        cn[i * N + j] = (float)s;
      }
    }
  }
}
