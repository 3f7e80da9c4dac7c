/* The sgemm driver, BLIS style: pack A and B into panels, block for the caches, split the work over the pool;
 * qkv_sgemm_ex adds a bias and ReLU in the epilogue and sums the rows of A on the way (a Linear layer's needs).
 * Which micro-kernel runs is chosen in gemm-select.c. */
#include "gemm.h"

#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "strided.h"

/* ---- packing ------------------------------------------------------------------------------- */

static int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
static int64_t min64(int64_t x, int64_t y) { return x < y ? x : y; }

/* A[0:mc, 0:kc] → panels of mr rows, each stored k-major: dst[(p*kc + k)*mr + i]; rows past mc are 0.
 * Inlined per tile height so the loop over a panel's rows unrolls (a 6-row panel packs ~7× faster than
 * with mr unknown, which matters when B is narrow and each packed A is used for few columns). */
static inline __attribute__((always_inline)) void pack_a_mr(int64_t mc, int64_t kc, const float *a, int64_t rs,
                                                            int64_t cs, const int mr, float *dst) {
  for (int64_t i0 = 0; i0 < mc; i0 += mr) {
    int rows = mc - i0 < mr ? (int)(mc - i0) : mr;
    const float *src = a + i0 * rs;
    if (rows == mr && cs == 1) {
      for (int64_t k = 0; k < kc; k++) {
        for (int i = 0; i < mr; i++) dst[k * mr + i] = src[i * rs + k];
      }
    } else if (rows == mr && rs == 1) {
      for (int64_t k = 0; k < kc; k++) {
        for (int i = 0; i < mr; i++) dst[k * mr + i] = src[k * cs + i];
      }
    } else {
      for (int64_t k = 0; k < kc; k++) {
        for (int i = 0; i < mr; i++) dst[k * mr + i] = i < rows ? src[i * rs + k * cs] : 0.0f;
      }
    }
    dst += kc * mr;
  }
}

/* A read down columns (rs == 1: xᵀ in a weight gradient) → full panels, one row of the stored matrix at a time
 * so that memory is read front to back. */
static inline __attribute__((always_inline)) void pack_a_cols_mr(int64_t kc, int64_t panels, const float *a, int64_t cs,
                                                                 const int mr, float *dst) {
  for (int64_t k = 0; k < kc; k++) {
    const float *src = a + k * cs;
    for (int64_t p = 0; p < panels; p++) memcpy(dst + (p * kc + k) * mr, src + p * mr, mr * sizeof(float));
  }
}

static void pack_a(const qkv_sgemm_kernel *kr, int64_t mc, int64_t kc, const float *a, int64_t rs, int64_t cs, float *dst) {
  const int mr = kr->mr;
  if (rs == 1 && cs != 1 && mc >= mr) {
    int64_t panels = mc / mr;
    switch (mr) {
      case 4: pack_a_cols_mr(kc, panels, a, cs, 4, dst); break;
      case 6: pack_a_cols_mr(kc, panels, a, cs, 6, dst); break;
      case 8: pack_a_cols_mr(kc, panels, a, cs, 8, dst); break;
      case 12: pack_a_cols_mr(kc, panels, a, cs, 12, dst); break;
      case 14: pack_a_cols_mr(kc, panels, a, cs, 14, dst); break;
      default: pack_a_cols_mr(kc, panels, a, cs, mr, dst); break;
    }
    a += panels * mr;
    dst += panels * mr * kc;
    mc -= panels * mr;
    if (mc == 0) return;
  }
  if (kr->pack_a_rows && cs == 1) {  /* the instruction set's transposing packer */
    for (int64_t i0 = 0; i0 < mc; i0 += mr) kr->pack_a_rows(kc, a + i0 * rs, rs, dst + i0 * kc, (int)min64(mr, mc - i0));
    return;
  }
  switch (mr) {
    case 4: pack_a_mr(mc, kc, a, rs, cs, 4, dst); break;
    case 6: pack_a_mr(mc, kc, a, rs, cs, 6, dst); break;
    case 8: pack_a_mr(mc, kc, a, rs, cs, 8, dst); break;
    case 12: pack_a_mr(mc, kc, a, rs, cs, 12, dst); break;
    case 14: pack_a_mr(mc, kc, a, rs, cs, 14, dst); break;
    default: pack_a_mr(mc, kc, a, rs, cs, mr, dst); break;
  }
}

/* B[0:kc, 0:nc] → panels of nr columns, each stored k-major: dst[(p*kc + k)*nr + j]; columns past nc are 0. */
static inline __attribute__((always_inline)) void pack_b_rows_nr(int64_t kc, int64_t panels, const float *b, int64_t rs,
                                                                 const int nr, float *dst) {
  for (int64_t k = 0; k < kc; k++) {
    const float *src = b + k * rs;
    for (int64_t p = 0; p < panels; p++) memcpy(dst + (p * kc + k) * nr, src + p * nr, nr * sizeof(float));
  }
}

static void pack_b(const qkv_sgemm_kernel *kr, int64_t kc, int64_t nc, const float *b, int64_t rs, int64_t cs, float *dst) {
  const int nr = kr->nr;
  if (cs == 1 && nc >= nr) {
    /* Full panels row by row: each row of B is read front to back (a stream the prefetcher follows, where
     * panel by panel read 64 bytes from each of kc rows: 20% of a weight gradient's time), and with nr a
     * constant each copy is a couple of vector moves rather than a call. */
    int64_t panels = nc / nr;
    if (nr == 16) pack_b_rows_nr(kc, panels, b, rs, 16, dst);
    else if (nr == 32) pack_b_rows_nr(kc, panels, b, rs, 32, dst);
    else pack_b_rows_nr(kc, panels, b, rs, nr, dst);
    b += panels * nr;
    dst += panels * nr * kc;
    nc -= panels * nr;
  }
  for (int64_t j0 = 0; j0 < nc; j0 += nr) {
    int cols = nc - j0 < nr ? (int)(nc - j0) : nr;
    if (rs == 1 && kr->pack_b_cols) {
      kr->pack_b_cols(kc, b + j0 * cs, cs, dst, cols);
    } else if (cols == nr && rs == 1) {
      for (int j = 0; j < nr; j++) {
        const float *src = b + (j0 + j) * cs;
        for (int64_t k = 0; k < kc; k++) dst[k * nr + j] = src[k];
      }
    } else if (cs == 1) {  /* the last, partial panel: rows of `cols` values, zeros after them */
      for (int64_t k = 0; k < kc; k++) {
        memcpy(dst + k * nr, b + k * rs + j0, cols * sizeof(float));
        memset(dst + k * nr + cols, 0, (nr - cols) * sizeof(float));
      }
    } else {
      for (int64_t k = 0; k < kc; k++) memset(dst + k * nr + cols, 0, (nr - cols) * sizeof(float));
      for (int j = 0; j < cols; j++) {
        const float *src = b + (j0 + j) * cs;
        for (int64_t k = 0; k < kc; k++) dst[k * nr + j] = src[k * rs];
      }
    }
    dst += kc * nr;
  }
}

/* ---- extras (qkv_sgemm_ex): helpers in gemm-linear.c ------------------------------------------ */

/* What a finished block of C gets: + bias[j] (bias already at the block's first column), then ReLU. */
typedef struct {
  const float *bias;
  int relu;
} epi_t;

/* The extras of a product computed by a path without them (one-row, naive): over all of C [M×N] at once. */
static void extras_plain(int64_t M, int64_t N, int64_t K, qkv_fmat a, float *c, const qkv_sgemm_extras *ex) {
  if (!ex) return;
  if (ex->bias || ex->relu) qkv_sgemm_epilogue(c, N, M, N, ex->bias, ex->relu);
  if (ex->rowsum_a) qkv_sgemm_rowsum(M, K, a, ex->rowsum_a);
}

/* ---- the macro-kernel: one packed A block times one packed B block ------------------------- */

/* C[0:mc, 0:nc] (=, or += when acc) packed A [mc×kc] · packed B [kc×nc], tile by tile; edge tiles go
 * through a scratch tile so the micro-kernel always writes a full mr×nr. With `e` (the last K block), each
 * tile gets its epilogue: in the micro-kernel's registers, or on the edge tile's copy while it is in L1. */
static void macro_kernel(const qkv_sgemm_kernel *kr, int64_t mc, int64_t nc, int64_t kc, const float *pa,
                         const float *pb, float *c, int64_t rsc, int acc, const epi_t *e) {
  const int mr = kr->mr, nr = kr->nr;
  float tile[32 * 64] __attribute__((aligned(64)));  /* mr×nr ≤ 32×64 */
  const int flags = (acc ? QKV_UK_ACC : 0) | (e && e->relu ? QKV_UK_RELU : 0);
  const float *bias = e ? e->bias : NULL;
  for (int64_t jr = 0; jr < nc; jr += nr) {
    int cols = (int)min64(nr, nc - jr);
    for (int64_t ir = 0; ir < mc; ir += mr) {
      int rows = (int)min64(mr, mc - ir);
      float *cij = c + ir * rsc + jr;
      if (rows == mr && cols == nr) {
        kr->ukernel(kc, pa + ir * kc, pb + jr * kc, cij, rsc, flags, bias ? bias + jr : NULL);
      } else {
        kr->ukernel(kc, pa + ir * kc, pb + jr * kc, tile, nr, 0, NULL);
        for (int i = 0; i < rows; i++) {
          for (int j = 0; j < cols; j++) cij[i * rsc + j] = acc ? cij[i * rsc + j] + tile[i * nr + j] : tile[i * nr + j];
        }
        if (e) qkv_sgemm_epilogue(cij, rsc, rows, cols, bias ? bias + jr : NULL, e->relu);
      }
    }
  }
}

/* ---- small products: the direct kernel --------------------------------------------------------- */

/* Products whose packed B fits in L2 and whose A is small: B packed whole, A read in place by the kernel's
 * direct twin. Attention's per-head products (T, S ≈ 8-32, K = 32) spent more on packing A, on pool
 * jobs and on edge tiles than on arithmetic in the packed path. */
#define DIRECT_B_FLOATS (32 * 1024)
#define DIRECT_A_FLOATS (16 * 1024)

static int use_direct = 1;
void qkv_sgemm_direct_enable(int on) { use_direct = on; }

static int direct_fits(const qkv_sgemm_kernel *kr, int64_t M, int64_t N, int64_t K) {
  return use_direct && kr->direct && K > 0 && K * round_up(N, kr->nr) <= DIRECT_B_FLOATS && M * K <= DIRECT_A_FLOATS;
}

/* C[M×N] (row stride rsc) = A·B on this thread, then the extras (ex may be NULL); 0 when out of memory. */
static int direct_product(const qkv_sgemm_kernel *kr, int64_t M, int64_t N, int64_t K, qkv_fmat a, qkv_fmat b,
                          float *c, int64_t rsc, const qkv_sgemm_extras *ex) {
  const int mr = kr->mr, nr = kr->nr;
  float *pb = qkv_thread_scratch(QKV_SCRATCH_PACK_B, (size_t)(K * round_up(N, nr)));
  if (!pb) return 0;
  pack_b(kr, K, N, b.p, b.rs, b.cs, pb);
  for (int64_t jr = 0; jr < N; jr += nr) {
    int cols = (int)min64(nr, N - jr);
    for (int64_t ir = 0; ir < M; ir += mr) {
      float *cij = c + ir * rsc + jr;
      kr->direct(K, a.p + ir * a.rs, a.rs, a.cs, (int)min64(mr, M - ir), pb + jr * K, cij, rsc, cols);
      if (ex && (ex->bias || ex->relu)) qkv_sgemm_epilogue(cij, rsc, min64(mr, M - ir), cols, ex->bias ? ex->bias + jr : NULL, ex->relu);
    }
  }
  if (ex && ex->rowsum_a) qkv_sgemm_rowsum(M, K, a, ex->rowsum_a);
  return 1;
}

/* ---- one product, split over the pool -------------------------------------------------------- */

/* One product C[M×N] = A·B. For each (jc, pc) block of B, two pool jobs: the threads pack B's panels
 * together into one shared buffer, then each takes a band of C (its own rows, or columns when C has
 * too few rows), packs its rows of A into its own buffer (so A stays in that core's L2) and runs the
 * macro-kernel. Two jobs rather than a barrier inside one: tasks may run one after another. */
typedef struct {
  const qkv_sgemm_kernel *kr;
  int64_t M, N, K, rsc, MC;
  qkv_fmat a, b;
  float *c, *bpack;
  int64_t jc, nc, pc, kc;
  int npack;          /* pack job: tasks, each a run of B panels */
  int gm, gn;         /* compute job: gm×gn bands of C */
  int64_t bm, bn;     /* band sizes: multiples of mr and nr */
  int failed;
  const float *bias;  /* extras (qkv_sgemm_extras) */
  int relu;
  float *rowsum;
} prod_job;

static void pack_b_task(void *ctx, int t, int thread) {
  (void)thread;
  prod_job *J = ctx;
  int nr = J->kr->nr;
  int64_t panels = (J->nc + nr - 1) / nr;
  int64_t p0 = qkv_split(panels, J->npack, t), p1 = qkv_split(panels, J->npack, t + 1);
  if (p0 >= p1) return;
  int64_t j0 = p0 * nr, j1 = min64(p1 * nr, J->nc);
  pack_b(J->kr, J->kc, j1 - j0, J->b.p + J->pc * J->b.rs + (J->jc + j0) * J->b.cs, J->b.rs, J->b.cs, J->bpack + j0 * J->kc);
}

static void compute_task(void *ctx, int t, int thread) {
  (void)thread;
  prod_job *J = ctx;
  int64_t m0 = (t / J->gn) * J->bm, n0 = (t % J->gn) * J->bn;
  if (m0 >= J->M || n0 >= J->nc) return;
  int64_t m1 = min64(m0 + J->bm, J->M), n1 = min64(n0 + J->bn, J->nc);
  float *pa = qkv_thread_scratch(QKV_SCRATCH_PACK_A, (size_t)(J->MC * J->kc));
  if (!pa) { J->failed = 1; return; }
  for (int64_t ic = m0; ic < m1; ic += J->MC) {
    int64_t mc = min64(J->MC, m1 - ic);
    pack_a(J->kr, mc, J->kc, J->a.p + ic * J->a.rs + J->pc * J->a.cs, J->a.rs, J->a.cs, pa);
    /* Each block of A is packed by every band in its row (and again per jc): the first one sums it. */
    if (J->rowsum && J->jc == 0 && n0 == 0) qkv_sgemm_rowsum_packed(J->kr->mr, mc, J->kc, pa, J->rowsum + ic, J->pc > 0);
    epi_t e = {J->bias ? J->bias + J->jc + n0 : NULL, J->relu};
    int last = J->pc + J->kc == J->K && (J->bias || J->relu);
    macro_kernel(J->kr, mc, n1 - n0, J->kc, pa, J->bpack + n0 * J->kc, J->c + ic * J->rsc + J->jc + n0, J->rsc, J->pc > 0,
                 last ? &e : NULL);
  }
}

/* Bands of C per thread: more than one, so that when a core is busy with something else the other
 * threads take over its share instead of waiting for it. */
#ifndef BANDS_PER_THREAD
#define BANDS_PER_THREAD 2
#endif

/* C[M×N] (row stride rsc) = A·B on `threads` threads (1: all inline), then the extras (ex may be NULL).
 * Returns 0 when out of memory. */
static int sgemm_product(const qkv_sgemm_kernel *kr, int64_t M, int64_t N, int64_t K, qkv_fmat a, qkv_fmat b,
                         float *c, int64_t rsc, int threads, const qkv_sgemm_extras *ex) {
  const int mr = kr->mr, nr = kr->nr;
  if (K == 0) {
    for (int64_t i = 0; i < M; i++) memset(c + i * rsc, 0, N * sizeof(float));
    if (ex && (ex->bias || ex->relu)) qkv_sgemm_epilogue(c, rsc, M, N, ex->bias, ex->relu);
    if (ex && ex->rowsum_a) memset(ex->rowsum_a, 0, M * sizeof(float));
    return 1;
  }
  if (threads == 1 && direct_fits(kr, M, N, K)) return direct_product(kr, M, N, K, a, b, c, rsc, ex);
  prod_job J = {kr, M, N, K, rsc, 0, a, b, c, NULL, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, NULL, 0, NULL};
  if (ex) { J.bias = ex->bias; J.relu = ex->relu; J.rowsum = ex->rowsum_a; }
  int64_t KC = min64(kr->kc, K), NC = min64(kr->nc, round_up(N, nr));
  /* C bands: rows when there are enough micro-tiles of them, else columns too. */
  int64_t mt = (M + mr - 1) / mr, nt = (min64(NC, N) + nr - 1) / nr;
  int bands = threads == 1 ? 1 : threads * BANDS_PER_THREAD;
  J.gm = (int)min64(bands, mt);
  J.gn = (int)min64((bands + J.gm - 1) / J.gm, nt);
  J.bm = (mt + J.gm - 1) / J.gm * mr;
  /* Even A blocks no larger than kr->mc: no thin leftover block at the end of a band. */
  int64_t nblk = (J.bm + kr->mc - 1) / kr->mc;
  J.MC = round_up((J.bm + nblk - 1) / nblk, mr);
  J.npack = threads;
  /* The caller's A buffer grown here too: it runs tasks of compute_task below. */
  if (!qkv_thread_scratch(QKV_SCRATCH_PACK_A, (size_t)(J.MC * KC))) return 0;
  if (!(J.bpack = qkv_thread_scratch(QKV_SCRATCH_PACK_B, (size_t)(KC * NC)))) return 0;
  for (J.jc = 0; J.jc < N; J.jc += NC) {
    J.nc = min64(NC, N - J.jc);
    J.bn = ((J.nc + nr - 1) / nr + J.gn - 1) / J.gn * nr;
    for (J.pc = 0; J.pc < K; J.pc += KC) {
      J.kc = min64(KC, K - J.pc);
      qkv_pool_run(pack_b_task, &J, J.npack);
      qkv_pool_run(compute_task, &J, J.gm * J.gn);
      if (J.failed) return 0;
    }
  }
  return 1;
}

/* ---- products with a long K: split K over the threads ------------------------------------------ */

/* A weight gradient xᵀ·g ([D×BT]·[BT×F], K = B·T tokens) has a small C and a long K. Split over rows of C,
 * it needs two pool jobs per K block (pack B together, then compute), so one descheduled thread stalls
 * the other 2·K/kc times; split over K, each task runs a whole one-thread product over its range of K
 * into its own C (the first into C itself, the others into partial sums) with no barrier until one
 * reduction at the end. Tasks are claimed as threads come free, so a busy core takes fewer of them. */
typedef struct {
  const qkv_sgemm_kernel *kr;
  int64_t M, N, K, chunk;
  qkv_fmat a, b;
  float *c, *part, *rpart;  /* rpart: the other tasks' row sums of A */
  int ntasks, failed;
  const qkv_sgemm_extras *ex;
} ksplit_job;

static void ksplit_task(void *ctx, int t, int thread) {
  (void)thread;
  ksplit_job *J = ctx;
  int64_t k0 = t * J->chunk, k1 = min64(k0 + J->chunk, J->K);
  qkv_fmat a = {J->a.p + k0 * J->a.cs, J->a.rs, J->a.cs}, b = {J->b.p + k0 * J->b.rs, J->b.rs, J->b.cs};
  float *dst = t == 0 ? J->c : J->part + (t - 1) * J->M * J->N;
  /* Bias and ReLU wait for the sum of the partial products; row sums are partial too. */
  qkv_sgemm_extras sums = {NULL, 0, NULL};
  if (J->ex && J->ex->rowsum_a) sums.rowsum_a = t == 0 ? J->ex->rowsum_a : J->rpart + (t - 1) * J->M;
  if (!sgemm_product(J->kr, J->M, J->N, k1 - k0, a, b, dst, J->N, 1, sums.rowsum_a ? &sums : NULL)) J->failed = 1;
}

/* C = the sum of the partial products over this task's range of C; with an epilogue, row segment by row segment
 * (each still in L1 when its epilogue runs). */
static void ksplit_reduce(void *ctx, int t, int thread) {
  (void)thread;
  ksplit_job *J = ctx;
  const qkv_sgemm_extras *ex = J->ex;
  int epi = ex && (ex->bias || ex->relu);
  int64_t n = J->M * J->N, i0 = qkv_split(n, J->ntasks, t), i1 = qkv_split(n, J->ntasks, t + 1);
  for (int64_t i = i0; i < i1;) {
    int64_t j = i % J->N, e = epi ? min64(i1, i - j + J->N) : i1;
    float *restrict dst = J->c;
    for (int p = 1; p < J->ntasks; p++) {
      const float *restrict src = J->part + (p - 1) * n;
      for (int64_t q = i; q < e; q++) dst[q] += src[q];
    }
    if (epi) qkv_sgemm_epilogue(dst + i, 0, 1, e - i, ex->bias ? ex->bias + j : NULL, ex->relu);
    i = e;
  }
}

/* Split K when C is small and K long: at least two K blocks per task. Up to 128K floats of C: at 256×1024
 * (S2S dW) on 4 threads of a Xeon the partial sums cost more than the barriers (AVX2 214 -> 157 GFLOP/s),
 * while 128×384 gained (AVX-512 260 -> 398, AVX2 173 -> 197; 2 loaded Zen 3 cores 47 -> 70-114). */
static int ksplit_fits(const qkv_sgemm_kernel *kr, int64_t M, int64_t N, int64_t K, int T) {
  return T > 1 && K >= 4 * (int64_t)kr->kc * T && M * N <= 128 * 1024;
}

/* C[M×N] = A·B split over K, then the extras (ex may be NULL); 0 when out of memory. */
static int ksplit_product(const qkv_sgemm_kernel *kr, int64_t M, int64_t N, int64_t K, qkv_fmat a, qkv_fmat b,
                          float *c, int T, const qkv_sgemm_extras *ex) {
  /* Two tasks per thread for balance while the partial sums are small; one each when they cost more. */
  int tasks = M * N <= 64 * 1024 ? 2 * T : T;
  ksplit_job J = {kr, M, N, K, 0, a, b, c, NULL, NULL, (int)min64(tasks, K / (2 * kr->kc)), 0, ex};
  J.chunk = round_up((K + J.ntasks - 1) / J.ntasks, kr->kc);  /* whole K blocks per task */
  J.ntasks = (int)((K + J.chunk - 1) / J.chunk);
  if (!(J.part = qkv_thread_scratch(QKV_SCRATCH_KSPLIT, (size_t)(J.ntasks - 1) * (M * N + M)))) return 0;
  J.rpart = J.part + (size_t)(J.ntasks - 1) * M * N;
  qkv_pool_run(ksplit_task, &J, J.ntasks);
  if (J.failed) return 0;
  qkv_pool_run(ksplit_reduce, &J, J.ntasks);
  if (ex && ex->rowsum_a) {
    for (int p = 1; p < J.ntasks; p++) {
      for (int64_t i = 0; i < M; i++) ex->rowsum_a[i] += J.rpart[(p - 1) * M + i];
    }
  }
  return 1;
}

/* ---- batches ----------------------------------------------------------------------------------- */

typedef struct {
  const qkv_sgemm_kernel *kr;
  int64_t batch, M, N, K;
  qkv_fmat a, b;
  int64_t bsa, bsb;
  float *c;
  int ntasks;
  int failed;
  const qkv_sgemm_extras *ex;
} batch_job;

static int use_small = 1, use_ksplit = 1;
void qkv_sgemm_small_enable(int on) { use_small = on; }
void qkv_sgemm_ksplit_enable(int on) { use_ksplit = on; }

/* The extras of item n of a batch: the same bias and ReLU, its own row sums. */
static qkv_sgemm_extras *item_extras(const qkv_sgemm_extras *ex, int64_t n, int64_t M, qkv_sgemm_extras *buf) {
  if (!ex) return NULL;
  *buf = *ex;
  if (buf->rowsum_a) buf->rowsum_a += n * M;
  return buf;
}

/* A run of whole batch items on one thread. */
static void batch_task(void *ctx, int t, int thread) {
  (void)thread;
  batch_job *J = ctx;
  for (int64_t n = qkv_split(J->batch, J->ntasks, t), end = qkv_split(J->batch, J->ntasks, t + 1); n < end; n++) {
    qkv_fmat a = {J->a.p + n * J->bsa, J->a.rs, J->a.cs}, b = {J->b.p + n * J->bsb, J->b.rs, J->b.cs};
    qkv_sgemm_extras buf, *ex = item_extras(J->ex, n, J->M, &buf);
    float *c = J->c + n * J->M * J->N;
    if (use_small && qkv_sgemm_small(J->M, J->N, J->K, a, b, c)) { extras_plain(J->M, J->N, J->K, a, c, ex); continue; }
    if (!sgemm_product(J->kr, J->M, J->N, J->K, a, b, c, J->N, 1, ex)) J->failed = 1;
  }
}

/* Below this many multiply-adds a product runs on one thread. */
#define SERIAL_FMAS (1 << 17)

void qkv_sgemm(int64_t batch, int64_t M, int64_t N, int64_t K,
               qkv_fmat a, int64_t bsa, qkv_fmat b, int64_t bsb, float *c) {
  qkv_sgemm_ex(batch, M, N, K, a, bsa, b, bsb, c, NULL);
}

void qkv_sgemm_ex(int64_t batch, int64_t M, int64_t N, int64_t K, qkv_fmat a, int64_t bsa, qkv_fmat b, int64_t bsb,
                  float *c, const qkv_sgemm_extras *ex) {
  if (batch <= 0 || M <= 0) return;
  if (N <= 0) {  /* nothing to multiply, but row sums of A may still be wanted */
    for (int64_t n = 0; ex && ex->rowsum_a && n < batch; n++) {
      qkv_fmat an = {a.p + n * bsa, a.rs, a.cs};
      qkv_sgemm_rowsum(M, K, an, ex->rowsum_a + n * M);
    }
    return;
  }
  const qkv_sgemm_kernel *kr = qkv_sgemm_current();
  int T = qkv_pool_threads();
  double fmas = (double)M * N * (K > 0 ? K : 1);
  int failed = 0;
  if (T > 1 && batch >= T && (batch % T == 0 || batch >= 4 * T || fmas * batch < (double)SERIAL_FMAS * T)) {
    /* Many products: whole items per thread, each with its own packing (attention's batched heads). */
    batch_job J = {kr, batch, M, N, K, a, b, bsa, bsb, c, (int)min64(batch, 4 * T), 0, ex};
    if (fmas * batch < SERIAL_FMAS) J.ntasks = 1;
    qkv_pool_run(batch_task, &J, J.ntasks);
    failed = J.failed;
  } else {
    /* Few products: one after another, each split over the threads. */
    int threads = fmas < SERIAL_FMAS ? 1 : T;
    for (int64_t n = 0; n < batch && !failed; n++) {
      qkv_fmat an = {a.p + n * bsa, a.rs, a.cs}, bn = {b.p + n * bsb, b.rs, b.cs};
      qkv_sgemm_extras buf, *exn = item_extras(ex, n, M, &buf);
      float *cn = c + n * M * N;
      if (use_small && qkv_sgemm_small(M, N, K, an, bn, cn)) { extras_plain(M, N, K, an, cn, exn); continue; }
      if (use_ksplit && ksplit_fits(kr, M, N, K, threads)) failed = !ksplit_product(kr, M, N, K, an, bn, cn, threads, exn);
      else failed = !sgemm_product(kr, M, N, K, an, bn, cn, N, threads, exn);
    }
  }
  if (failed) {  /* out of memory for packing: slow but right */
    qkv_sgemm_naive(batch, M, N, K, a, bsa, b, bsb, c);
    for (int64_t n = 0; n < batch; n++) {
      qkv_sgemm_extras buf;
      qkv_fmat an = {a.p + n * bsa, a.rs, a.cs};
      extras_plain(M, N, K, an, c + n * M * N, item_extras(ex, n, M, &buf));
    }
  }
}
