/* The portable sgemm micro-kernel (4×16, plain C the compiler vectorises): any CPU, arm64 included. */
#include <stddef.h>

#include "gemm.h"

#define MR 4
#define NR 16

static void ukernel(int64_t kc, const float *pa, const float *pb, float *c, int64_t rsc, int flags, const float *bias) {
  float acc[MR][NR] = {{0}};
  for (int64_t k = 0; k < kc; k++) {
    for (int i = 0; i < MR; i++) {
      float a = pa[k * MR + i];
      for (int j = 0; j < NR; j++) acc[i][j] += a * pb[k * NR + j];
    }
  }
  for (int i = 0; i < MR; i++) {
    for (int j = 0; j < NR; j++) {
      float v = flags & QKV_UK_ACC ? c[i * rsc + j] + acc[i][j] : acc[i][j];
      if (bias) v += bias[j];
      c[i * rsc + j] = !(flags & QKV_UK_RELU) || v > 0 ? v : 0.0f;
    }
  }
}

/* The direct twin: A read in place through its strides. */
static void direct(int64_t kc, const float *a, int64_t rs, int64_t cs, int rows, const float *pb, float *c, int64_t rsc,
                   int cols) {
  float acc[MR][NR] = {{0}};
  for (int64_t k = 0; k < kc; k++) {
    for (int i = 0; i < MR; i++) {
      float x = a[(i < rows ? i : rows - 1) * rs + k * cs];
      for (int j = 0; j < NR; j++) acc[i][j] += x * pb[k * NR + j];
    }
  }
  for (int i = 0; i < rows; i++) {
    for (int j = 0; j < cols; j++) c[i * rsc + j] = acc[i][j];
  }
}

static int always(void) { return 1; }

const qkv_sgemm_kernel qkv_sgemm_portable = {"portable", MR, NR, 128, 256, 2048, ukernel, always, NULL, NULL, direct};
