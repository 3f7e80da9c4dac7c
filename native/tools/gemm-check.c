/* Standalone sgemm check and timer: every kernel this CPU runs against the naive oracle, then GFLOP/s.
 * Build: make -C native/tools (see native/tools/Makefile). Run: build/gemm-check [--quick] */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../fused.h"
#include "../gemm.h"
#include "../pool.h"

static unsigned rng_state = 12345;
static float frand(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return (float)((rng_state >> 8) / 16777216.0 * 2 - 1);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Checks one shape, optionally with A and/or B given as transposed views; returns 1 when within tolerance. */
static int check(int64_t batch, int64_t M, int64_t N, int64_t K, int ta, int tb) {
  size_t na = batch * M * K + 1, nb = batch * K * N + 1, nc = batch * M * N + 1;
  float *a = malloc(na * 4), *b = malloc(nb * 4), *c = malloc(nc * 4), *r = malloc(nc * 4);
  for (size_t i = 0; i < na; i++) a[i] = frand();
  for (size_t i = 0; i < nb; i++) b[i] = frand();
  /* A stored [batch, K, M] when ta (so A(i,k) = a[k*M + i]), else [batch, M, K]. */
  qkv_fmat A = ta ? (qkv_fmat){a, 1, M} : (qkv_fmat){a, K, 1};
  qkv_fmat B = tb ? (qkv_fmat){b, 1, K} : (qkv_fmat){b, N, 1};
  memset(c, 0x7f, nc * 4);  /* garbage that must be overwritten */
  qkv_sgemm(batch, M, N, K, A, M * K, B, K * N, c);
  qkv_sgemm_naive(batch, M, N, K, A, M * K, B, K * N, r);
  double tol = 1e-6 * (sqrt((double)K) + 1) * 4;
  int ok = 1;
  for (size_t i = 0; i < (size_t)(batch * M * N); i++) {
    if (!(fabs(c[i] - r[i]) <= tol * (1 + fabs(r[i])))) {
      printf("  MISMATCH %s batch=%ld M=%ld N=%ld K=%ld ta=%d tb=%d at %zu: %g vs %g\n", qkv_sgemm_current()->name,
             (long)batch, (long)M, (long)N, (long)K, ta, tb, i, c[i], r[i]);
      ok = 0;
      break;
    }
  }
  free(a); free(b); free(c); free(r);
  return ok;
}

static double gflops(int64_t M, int64_t N, int64_t K) {
  float *a = aligned_alloc(64, M * K * 4), *b = aligned_alloc(64, K * N * 4), *c = aligned_alloc(64, M * N * 4 + 64);
  for (int64_t i = 0; i < M * K; i++) a[i] = frand();
  for (int64_t i = 0; i < K * N; i++) b[i] = frand();
  qkv_fmat A = {a, K, 1}, B = {b, N, 1};
  if (getenv("QKV_TB")) B = (qkv_fmat){b, 1, K};  /* B read transposed: x·Wᵀ as in a Linear layer */
  if (getenv("QKV_TA")) A = (qkv_fmat){a, 1, M};  /* A read transposed: Xᵀ·G as in a weight gradient */
  qkv_sgemm(1, M, N, K, A, 0, B, 0, c);
  double flop = 2.0 * M * N * K, best = 1e30;
  int reps = (int)(3e8 / flop) + 1;
  /* Best of short runs within a time budget: on a shared machine the minimum is the signal. */
  double budget = getenv("QKV_SECONDS") ? atof(getenv("QKV_SECONDS")) : 0.3, start = now();
  for (int trial = 0; trial < 3 || now() - start < budget; trial++) {
    double t0 = now();
    for (int r = 0; r < reps; r++) qkv_sgemm(1, M, N, K, A, 0, B, 0, c);
    double dt = (now() - t0) / reps;
    if (dt < best) best = dt;
  }
  free(a); free(b); free(c);
  return flop / best / 1e9;
}

/* The fused row kernels of one instruction set against double-precision loops; returns failures. */
static int check_fused(const char *name, const qkv_fused_rows *k) {
  int bad = 0;
  static const int64_t widths[] = {1, 7, 16, 33, 128, 1000};
  for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
    int64_t n = widths[wi];
    float *x = malloc(n * 4), *y = malloc(n * 4), *w = malloc(n * 4), *b = malloc(n * 4);
    for (int64_t i = 0; i < n; i++) { x[i] = frand() * 20; w[i] = 1 + frand(); b[i] = frand(); }
    k->softmax(x, y, n);
    double m = -1e300, s = 0;
    for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    for (int64_t i = 0; i < n; i++) s += exp(x[i] - m);
    for (int64_t i = 0; i < n; i++) {
      double want = exp(x[i] - m) / s;
      if (!(fabs(y[i] - want) <= 1e-7 + 1e-5 * want)) { printf("  %s softmax n=%ld [%ld]: %g vs %g\n", name, (long)n, (long)i, y[i], want); bad++; break; }
    }
    float mean, rstd;
    k->layernorm(x, w, b, 1e-5f, y, n, &mean, &rstd);
    double mu = 0, var = 0;
    for (int64_t i = 0; i < n; i++) mu += x[i];
    mu /= n;
    for (int64_t i = 0; i < n; i++) var += (x[i] - mu) * (x[i] - mu);
    double rs = 1 / sqrt(var / n + 1e-5);
    for (int64_t i = 0; i < n; i++) {
      double want = (x[i] - mu) * rs * w[i] + b[i];
      if (!(fabs(y[i] - want) <= 1e-4 + 1e-4 * fabs(want))) { printf("  %s layernorm n=%ld [%ld]: %g vs %g\n", name, (long)n, (long)i, y[i], want); bad++; break; }
    }
    free(x); free(y); free(w); free(b);
  }
  return bad;
}

int main(int argc, char **argv) {
  int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  int skip = argc > 1 && strcmp(argv[1], "--perf") == 0;
  const char *only = getenv("QKV_KERNEL");
  static const int64_t shapes[][4] = {{1, 1, 1, 1}, {1, 7, 13, 5}, {1, 257, 129, 67}, {3, 33, 65, 17}, {5, 6, 32, 300},
                                      {2, 100, 3, 1000}, {1, 1, 700, 9}, {1, 500, 1, 64}, {1, 4, 4, 0}, {1, 1000, 600, 520},
                                      {1, 3, 1000, 77}, {2, 4, 33, 513}, {1, 2, 5000, 64}, {7, 1, 65, 40},
                                      /* attention-shaped batches (the direct kernel), with edge rows and columns */
                                      {64, 32, 32, 32}, {24, 8, 8, 32}, {9, 7, 17, 5}, {33, 13, 29, 31}, {6, 32, 128, 24},
                                      /* long K, small C (split over K on 2 threads) */
                                      {1, 37, 45, 3000}, {1, 130, 70, 2100},
                                      /* one row split over threads (decoding) */
                                      {1, 1, 1000, 200}, {1, 1, 389, 517}};
  int fails = 0;
  if (!skip) {
    fails += check_fused("portable", qkv_fused_portable);
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) fails += check_fused("avx2", qkv_fused_avx2);
    if (__builtin_cpu_supports("avx512f")) fails += check_fused("avx512", qkv_fused_avx512);
#endif
    printf("fused rows     %s\n", fails ? "FAIL" : "pass (portable, and avx2/avx512 where supported)");
  }
  for (const qkv_sgemm_kernel *const *k = qkv_sgemm_all(); *k; k++) {
    if (!(*k)->supported()) { printf("%-14s not supported on this CPU\n", (*k)->name); continue; }
    if (skip || (only && strcmp(only, (*k)->name) != 0)) continue;
    qkv_sgemm_use((*k)->name);
    int nok = 0, n = 0;
    for (int threads = 1; threads <= 6; threads++) {
      qkv_pool_set_threads(threads & 1 ? 1 : 2);
      /* the small-M and direct paths, then the packed path alone, then direct without small-M */
      qkv_sgemm_small_enable(threads <= 2);
      qkv_sgemm_direct_enable(threads <= 2 || threads >= 5);
      qkv_sgemm_ksplit_enable(threads <= 2 || threads >= 5);
      for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int t = 0; t < 4; t++, n++) nok += check(shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], t & 1, t >> 1);
      }
    }
    qkv_sgemm_small_enable(1);
    qkv_sgemm_direct_enable(1);
    qkv_sgemm_ksplit_enable(1);
    printf("%-14s %d/%d checks pass\n", (*k)->name, nok, n);
    fails += n - nok;
  }
  if (quick) return fails ? 1 : 0;
  static const int64_t perf[][3] = {{256, 256, 256}, {512, 512, 512}, {1024, 1024, 1024}, {2048, 2048, 2048},
                                    {4096, 384, 128}, {4096, 128, 512}};
  int maxt = 0;
  qkv_pool_set_threads(0);
  maxt = qkv_pool_threads();
  for (const qkv_sgemm_kernel *const *k = qkv_sgemm_all(); *k; k++) {
    if (!(*k)->supported() || (only && strcmp(only, (*k)->name) != 0)) continue;
    qkv_sgemm_use((*k)->name);
    if (getenv("QKV_BLOCKS")) {
      int mc = 0, kc = 0, nc = 0;
      sscanf(getenv("QKV_BLOCKS"), "%d,%d,%d", &mc, &kc, &nc);
      qkv_sgemm_tune(mc, kc, nc);
    }
    if (getenv("QKV_SIZES")) {  /* "M,N,K" only */
      int64_t m = 0, n = 0, kk = 0;
      sscanf(getenv("QKV_SIZES"), "%ld,%ld,%ld", &m, &n, &kk);
      int th = getenv("QKV_T") ? atoi(getenv("QKV_T")) : 1;
      if (getenv("QKV_SMALL")) qkv_sgemm_small_enable(atoi(getenv("QKV_SMALL")));
      if (getenv("QKV_KSPLIT")) qkv_sgemm_ksplit_enable(atoi(getenv("QKV_KSPLIT")));
      qkv_pool_set_threads(th);
      double g = 0;
      g = gflops(m, n, kk);
      printf("%s blocks=%d,%d,%d  %ldx%ldx%ld  %dT %.1f GFLOP/s\n", (*k)->name, qkv_sgemm_current()->mc, qkv_sgemm_current()->kc,
             qkv_sgemm_current()->nc, (long)m, (long)n, (long)kk, th, g);
      continue;
    }
    for (size_t s = 0; s < sizeof perf / sizeof perf[0]; s++) {
      printf("%-14s M=%-5ld N=%-5ld K=%-5ld", (*k)->name, (long)perf[s][0], (long)perf[s][1], (long)perf[s][2]);
      for (int t = 1; t <= maxt; t *= 2) {
        qkv_pool_set_threads(t);
        printf("  %2dT %7.1f", t, gflops(perf[s][0], perf[s][1], perf[s][2]));
      }
      printf("  GFLOP/s\n");
      fflush(stdout);
    }
  }
  return fails ? 1 : 0;
}
