/* The sgemm driver, BLIS style: pack A and B into panels, block for the caches, split the work over the pool. */
#include "gemm.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

/* ---- choosing a kernel --------------------------------------------------------------------- */

static const qkv_sgemm_kernel *const ALL[] = {
#if defined(__x86_64__)
    &qkv_sgemm_avx512, &qkv_sgemm_avx512_12x32, &qkv_sgemm_avx2,
#endif
    &qkv_sgemm_portable, NULL};

static const qkv_sgemm_kernel *current;
static qkv_sgemm_kernel tuned;  /* current, with block sizes changed by qkv_sgemm_tune */

const qkv_sgemm_kernel *const *qkv_sgemm_all(void) { return ALL; }

const qkv_sgemm_kernel *qkv_sgemm_current(void) {
  if (!current) {
    for (int i = 0; ALL[i]; i++) {
      if (ALL[i]->supported()) { current = ALL[i]; break; }
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
    if (strcmp(ALL[i]->name, name) == 0 && ALL[i]->supported()) { current = ALL[i]; return 1; }
  }
  return 0;
}

/* ---- per-thread packing buffers ------------------------------------------------------------ */

typedef struct {
  float *a, *b;
  size_t na, nb;
} pack_bufs;

static pthread_key_t bufs_key;
static pthread_once_t bufs_once = PTHREAD_ONCE_INIT;

static void free_bufs(void *p) {
  pack_bufs *pb = p;
  free(pb->a);
  free(pb->b);
  free(pb);
}

static void make_key(void) { pthread_key_create(&bufs_key, free_bufs); }

static float *grow(float **buf, size_t *have, size_t need) {
  if (*have < need) {
    free(*buf);
    *buf = aligned_alloc(64, (need * sizeof(float) + 63) / 64 * 64);
    *have = *buf ? need : 0;
  }
  return *buf;
}

/* Buffers of this thread, at least na and nb floats; NULL if memory ran out. */
static pack_bufs *thread_bufs(size_t na, size_t nb) {
  pthread_once(&bufs_once, make_key);
  pack_bufs *pb = pthread_getspecific(bufs_key);
  if (!pb) {
    pb = calloc(1, sizeof *pb);
    if (!pb) return NULL;
    pthread_setspecific(bufs_key, pb);
  }
  if (!grow(&pb->a, &pb->na, na) || !grow(&pb->b, &pb->nb, nb)) return NULL;
  return pb;
}

/* ---- packing ------------------------------------------------------------------------------- */

/* A[0:mc, 0:kc] → panels of mr rows, each stored k-major: dst[(p*kc + k)*mr + i]; rows past mc are 0. */
static void pack_a(int64_t mc, int64_t kc, const float *a, int64_t rs, int64_t cs, int mr, float *dst) {
  for (int64_t i0 = 0; i0 < mc; i0 += mr) {
    int rows = mc - i0 < mr ? (int)(mc - i0) : mr;
    if (rows == mr && cs == 1) {
      const float *src = a + i0 * rs;
      for (int64_t k = 0; k < kc; k++) {
        for (int i = 0; i < mr; i++) dst[k * mr + i] = src[i * rs + k];
      }
    } else {
      for (int64_t k = 0; k < kc; k++) {
        for (int i = 0; i < mr; i++) dst[k * mr + i] = i < rows ? a[(i0 + i) * rs + k * cs] : 0.0f;
      }
    }
    dst += kc * mr;
  }
}

/* B[0:kc, 0:nc] → panels of nr columns, each stored k-major: dst[(p*kc + k)*nr + j]; columns past nc are 0. */
static void pack_b(int64_t kc, int64_t nc, const float *b, int64_t rs, int64_t cs, int nr, float *dst) {
  for (int64_t j0 = 0; j0 < nc; j0 += nr) {
    int cols = nc - j0 < nr ? (int)(nc - j0) : nr;
    if (cols == nr && cs == 1) {
      for (int64_t k = 0; k < kc; k++) memcpy(dst + k * nr, b + k * rs + j0, nr * sizeof(float));
    } else if (cols == nr && rs == 1) {
      for (int j = 0; j < nr; j++) {
        const float *src = b + (j0 + j) * cs;
        for (int64_t k = 0; k < kc; k++) dst[k * nr + j] = src[k];
      }
    } else {
      for (int64_t k = 0; k < kc; k++) {
        for (int j = 0; j < nr; j++) dst[k * nr + j] = j < cols ? b[k * rs + (j0 + j) * cs] : 0.0f;
      }
    }
    dst += kc * nr;
  }
}

/* ---- one product, one thread --------------------------------------------------------------- */

static int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
static int64_t min64(int64_t x, int64_t y) { return x < y ? x : y; }

/* C[M×N] (row stride rsc) = A · B with the five BLIS loops around the micro-kernel. Returns 0 on out of memory. */
static int sgemm_block(const qkv_sgemm_kernel *kr, int64_t M, int64_t N, int64_t K,
                       qkv_fmat a, qkv_fmat b, float *c, int64_t rsc) {
  const int mr = kr->mr, nr = kr->nr;
  if (K == 0) {
    for (int64_t i = 0; i < M; i++) memset(c + i * rsc, 0, N * sizeof(float));
    return 1;
  }
  int64_t MC = min64(kr->mc, round_up(M, mr)), KC = min64(kr->kc, K), NC = min64(kr->nc, round_up(N, nr));
  pack_bufs *buf = thread_bufs(MC * KC, KC * NC);
  if (!buf) return 0;
  float tile[32 * 64] __attribute__((aligned(64)));  /* edge tiles; mr×nr ≤ 32×64 */
  for (int64_t jc = 0; jc < N; jc += NC) {
    int64_t nc = min64(NC, N - jc);
    for (int64_t pc = 0; pc < K; pc += KC) {
      int64_t kc = min64(KC, K - pc);
      int acc = pc > 0;
      pack_b(kc, nc, b.p + pc * b.rs + jc * b.cs, b.rs, b.cs, nr, buf->b);
      for (int64_t ic = 0; ic < M; ic += MC) {
        int64_t mc = min64(MC, M - ic);
        pack_a(mc, kc, a.p + ic * a.rs + pc * a.cs, a.rs, a.cs, mr, buf->a);
        for (int64_t jr = 0; jr < nc; jr += nr) {
          const float *pb = buf->b + jr * kc;
          int cols = (int)min64(nr, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += mr) {
            const float *pa = buf->a + ir * kc;
            int rows = (int)min64(mr, mc - ir);
            float *cij = c + (ic + ir) * rsc + jc + jr;
            if (rows == mr && cols == nr) {
              kr->ukernel(kc, pa, pb, cij, rsc, acc);
            } else {
              kr->ukernel(kc, pa, pb, tile, nr, 0);
              for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) cij[i * rsc + j] = acc ? cij[i * rsc + j] + tile[i * nr + j] : tile[i * nr + j];
              }
            }
          }
        }
      }
    }
  }
  return 1;
}

/* ---- splitting the work -------------------------------------------------------------------- */

typedef struct {
  const qkv_sgemm_kernel *kr;
  int64_t M, N, K;
  qkv_fmat a, b;
  int64_t bsa, bsb;
  float *c;
  int64_t batch_per_task;  /* when tasks are whole batch items */
  int gm, gn;              /* else each item is cut into gm×gn blocks */
  int64_t bm, bn;          /* block sizes, multiples of mr and nr */
  int failed;
} job;

static void run_task(void *ctx, int t, int thread) {
  (void)thread;
  job *J = ctx;
  if (J->batch_per_task) {
    for (int64_t n = t * J->batch_per_task, end = n + J->batch_per_task; n < end; n++) {
      qkv_fmat a = {J->a.p + n * J->bsa, J->a.rs, J->a.cs}, b = {J->b.p + n * J->bsb, J->b.rs, J->b.cs};
      if (!sgemm_block(J->kr, J->M, J->N, J->K, a, b, J->c + n * J->M * J->N, J->N)) J->failed = 1;
    }
    return;
  }
  int per = J->gm * J->gn;
  int64_t n = t / per, im = (t % per) / J->gn, in = t % J->gn;
  int64_t m0 = im * J->bm, n0 = in * J->bn;
  if (m0 >= J->M || n0 >= J->N) return;
  qkv_fmat a = {J->a.p + n * J->bsa + m0 * J->a.rs, J->a.rs, J->a.cs};
  qkv_fmat b = {J->b.p + n * J->bsb + n0 * J->b.cs, J->b.rs, J->b.cs};
  float *c = J->c + n * J->M * J->N + m0 * J->N + n0;
  if (!sgemm_block(J->kr, min64(J->bm, J->M - m0), min64(J->bn, J->N - n0), J->K, a, b, c, J->N)) J->failed = 1;
}

static int gcd(int x, int y) { while (y) { int t = x % y; x = y; y = t; } return x; }

/* Below this many multiply-adds per product, one thread does the whole job. */
#define SERIAL_FMAS (1 << 15)

void qkv_sgemm(int64_t batch, int64_t M, int64_t N, int64_t K,
               qkv_fmat a, int64_t bsa, qkv_fmat b, int64_t bsb, float *c) {
  if (batch <= 0 || M <= 0 || N <= 0) return;
  job J = {qkv_sgemm_current(), M, N, K, a, b, bsa, bsb, c, 0, 1, 1, M, N, 0};
  int T = qkv_pool_threads();
  double fmas = (double)batch * M * N * (K > 0 ? K : 1);
  if (T == 1 || fmas < SERIAL_FMAS) T = 1;
  int64_t mt = (M + J.kr->mr - 1) / J.kr->mr, nt = (N + J.kr->nr - 1) / J.kr->nr;
  /* Cut each product into `parts` blocks so that batch·parts shares evenly among T threads. */
  int parts = batch >= 4 * T ? 1 : T / gcd((int)(batch % T ? batch % T : T), T);
  if (parts > 1 && (double)M * N * K / parts < SERIAL_FMAS) parts = 1;
  int ntasks;
  if (parts == 1) {
    int64_t per = (batch + 4 * T - 1) / (4 * T);
    if (T == 1) per = batch;
    J.batch_per_task = per;
    ntasks = (int)((batch + per - 1) / per);
    if (ntasks * per != batch) {  /* the last task would overrun: fall back to one item per task */
      J.batch_per_task = 1;
      ntasks = (int)batch;
    }
  } else {
    /* Cut the dimension with more micro-tiles first; the other only if that one runs out. */
    if (mt >= nt) { J.gm = (int)min64(parts, mt); J.gn = (int)min64((parts + J.gm - 1) / J.gm, nt); }
    else { J.gn = (int)min64(parts, nt); J.gm = (int)min64((parts + J.gn - 1) / J.gn, mt); }
    J.bm = (mt + J.gm - 1) / J.gm * J.kr->mr;
    J.bn = (nt + J.gn - 1) / J.gn * J.kr->nr;
    ntasks = (int)(batch * J.gm * J.gn);
  }
  qkv_pool_run(run_task, &J, ntasks);
  if (J.failed) qkv_sgemm_naive(batch, M, N, K, a, bsa, b, bsb, c);  /* out of memory for packing: slow but right */
}
