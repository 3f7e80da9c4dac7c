/* Choosing the sgemm micro-kernel: the first one this CPU supports that passes a self-check on exact test values,
 * or one named by qkv_sgemm_use; block sizes overridden by qkv_sgemm_tune. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"

static const qkv_sgemm_kernel *const ALL[] = {
#if defined(__x86_64__)
    &qkv_sgemm_avx512, &qkv_sgemm_avx512_6x32, &qkv_sgemm_avx512_8x32, &qkv_sgemm_avx512_14x32, &qkv_sgemm_avx2,
#endif
#if defined(__wasm_simd128__)
    &qkv_sgemm_wasm_fma, &qkv_sgemm_wasm,
#endif
    &qkv_sgemm_portable, NULL};

static const qkv_sgemm_kernel *current;
static qkv_sgemm_kernel tuned;  /* current, with block sizes changed by qkv_sgemm_tune */

const qkv_sgemm_kernel *const *qkv_sgemm_all(void) { return ALL; }

/* Test values whose products and sums are exact in float, so a kernel must match the definition bit for bit. */
static float tv(int64_t x, int m, float unit) { return (float)((int)(x % m) - m / 2) * unit; }

/* n floats, 64-byte aligned; NULL when out of memory. */
static float *falloc(int64_t n) { return aligned_alloc(64, ((size_t)n * sizeof(float) + 63) / 64 * 64); }

/* 1 when the kernel's packers, micro-kernel (plain; accumulating with bias and ReLU) and direct twin compute
 * one tile as gemm.h defines them, on this CPU: a kernel the build could only compile, never run (the AVX-512
 * ones on an AVX2 machine), is checked before it is trusted. QKV_SGEMM_BREAK=<name> fails it, for tests. */
int qkv_sgemm_kernel_works(const qkv_sgemm_kernel *k) {
  const char *brk = getenv("QKV_SGEMM_BREAK");
  if (brk && strcmp(brk, k->name) == 0) return 0;
  enum { KC = 37 };
  const int mr = k->mr, nr = k->nr, rsc = nr + 3;
  /* Aligned as the driver's packing buffers are (micro-kernels use aligned loads on packed panels). */
  float *A = falloc(mr * KC), *Bt = falloc(nr * KC), *pa = falloc(mr * KC), *pb = falloc(nr * KC);
  float *pk = falloc((mr > nr ? mr : nr) * KC), *C = falloc(mr * rsc), *bias = falloc(nr);
  int ok = A && Bt && pa && pb && pk && C && bias;
  if (ok) {
    for (int i = 0; i < mr; i++) for (int q = 0; q < KC; q++) A[i * KC + q] = tv(i * 7 + q * 3, 9, 0.25f);
    for (int j = 0; j < nr; j++) for (int q = 0; q < KC; q++) Bt[j * KC + q] = tv(q * 5 + j * 11, 7, 0.5f);
    for (int j = 0; j < nr; j++) bias[j] = tv(j, 5, 0.25f);
    for (int q = 0; q < KC; q++) {
      for (int i = 0; i < mr; i++) pa[q * mr + i] = A[i * KC + q];
      for (int j = 0; j < nr; j++) pb[q * nr + j] = Bt[j * KC + q];
    }
    /* The kernel's own packers, a full panel and one short by a row or column (its tail must be zero). */
    for (int n = mr; ok && k->pack_a_rows && n >= mr - 1 && n >= 1; n--) {
      k->pack_a_rows(KC, A, KC, pk, n);
      for (int q = 0; q < KC; q++) for (int i = 0; i < mr; i++) ok &= pk[q * mr + i] == (i < n ? pa[q * mr + i] : 0.0f);
    }
    for (int n = nr; ok && k->pack_b_cols && n >= nr - 1 && n >= 1; n--) {
      k->pack_b_cols(KC, Bt, KC, pk, n);
      for (int q = 0; q < KC; q++) for (int j = 0; j < nr; j++) ok &= pk[q * nr + j] == (j < n ? pb[q * nr + j] : 0.0f);
    }
    for (int pass = 0; ok && pass < 3; pass++) {
      /* pass 0: C = A·B; pass 1: C = relu(C0 + A·B + bias); pass 2: the direct kernel on rows × cols. */
      const int rows = pass == 2 ? mr - (mr > 1) : mr, cols = pass == 2 ? nr - (nr > 1) : nr;
      for (int i = 0; i < mr; i++) for (int j = 0; j < rsc; j++) C[i * rsc + j] = tv(i + j, 3, 0.5f);
      if (pass == 0) k->ukernel(KC, pa, pb, C, rsc, 0, NULL);
      else if (pass == 1) k->ukernel(KC, pa, pb, C, rsc, QKV_UK_ACC | QKV_UK_RELU, bias);
      else if (k->direct) k->direct(KC, A, KC, 1, rows, pb, C, rsc, cols);
      else break;
      for (int i = 0; i < mr; i++) {
        for (int j = 0; j < rsc; j++) {
          double want = tv(i + j, 3, 0.5f);  /* untouched outside the tile */
          if (i < rows && j < cols) {
            double s = pass == 1 ? want : 0.0;
            for (int q = 0; q < KC; q++) s += (double)A[i * KC + q] * Bt[j * KC + q];
            if (pass == 1) s += bias[j], s = s > 0 ? s : 0.0;
            want = s;
          }
          ok &= C[i * rsc + j] == (float)want;
        }
      }
    }
  }
  free(A); free(Bt); free(pa); free(pb); free(pk); free(C); free(bias);
  return ok;
}

/* Supported by this CPU and passing the check above (remembered per kernel). */
static int usable(int i) {
  static signed char verdict[sizeof ALL / sizeof ALL[0]];
  if (!verdict[i]) verdict[i] = ALL[i]->supported() && qkv_sgemm_kernel_works(ALL[i]) ? 1 : -1;
  return verdict[i] > 0;
}

const qkv_sgemm_kernel *qkv_sgemm_current(void) {
  if (!current) {
    for (int i = 0; ALL[i]; i++) {
      if (usable(i)) { current = ALL[i]; break; }
      if (ALL[i]->supported()) fprintf(stderr, "qkv: the %s sgemm kernel gave wrong results in its self-check on this CPU; not using it\n", ALL[i]->name);
    }
  }
  return current;
}

void qkv_sgemm_tune(int mc, int kc, int nc) {
  tuned = *qkv_sgemm_current();
  if (mc > 0) tuned.mc = (mc + tuned.mr - 1) / tuned.mr * tuned.mr;
  if (kc > 0) tuned.kc = kc;
  if (nc > 0) tuned.nc = (nc + tuned.nr - 1) / tuned.nr * tuned.nr;
  current = &tuned;
}

int qkv_sgemm_use(const char *name) {
  for (int i = 0; ALL[i]; i++) {
    if (strcmp(ALL[i]->name, name) == 0 && usable(i)) { current = ALL[i]; return 1; }
  }
  return 0;
}
