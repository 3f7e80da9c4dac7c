/* The thread pool: a generation counter announces work, an atomic counter hands out tasks. */
#define _GNU_SOURCE
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

/* How long an idle worker spins before it sleeps: long enough to bridge the gap between two
 * kernels of one training step, short enough that an idle process does not burn a core. */
#define SPIN_NS 200000L
#define MAX_THREADS 256

static struct {
  pthread_mutex_t mu;
  pthread_cond_t wake;
  pthread_mutex_t run_mu;       /* one qkv_pool_run at a time */
  atomic_uint gen;              /* bumped once per job */
  atomic_int stop;
  qkv_task_fn fn;
  void *ctx;
  int ntasks;
  atomic_int next;              /* next task to hand out */
  atomic_int busy;              /* workers that have not finished the current job */
  int threads;                  /* configured, caller included */
  int started;                  /* workers running (threads - 1 once started) */
  unsigned start_gen;           /* the generation new workers have already seen */
  pthread_t tid[MAX_THREADS];
} P = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};

static long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void drain(int thread) {
  for (;;) {
    int t = atomic_fetch_add_explicit(&P.next, 1, memory_order_relaxed);
    if (t >= P.ntasks) break;
    P.fn(P.ctx, t, thread);
  }
}

static void *worker(void *arg) {
  int thread = (int)(long)arg;
  unsigned seen = P.start_gen;
  for (;;) {
    long t0 = now_ns();
    unsigned g;
    int spins = 0;
    while ((g = atomic_load_explicit(&P.gen, memory_order_acquire)) == seen) {
      cpu_relax();
      if (++spins % 256 == 0 && now_ns() - t0 > SPIN_NS) {
        pthread_mutex_lock(&P.mu);
        while ((g = atomic_load(&P.gen)) == seen && !atomic_load(&P.stop)) pthread_cond_wait(&P.wake, &P.mu);
        pthread_mutex_unlock(&P.mu);
        break;
      }
    }
    if (atomic_load(&P.stop)) return NULL;
    seen = g;
    drain(thread);
    atomic_fetch_sub_explicit(&P.busy, 1, memory_order_release);
  }
}

static void stop_workers(void) {
  if (!P.started) return;
  pthread_mutex_lock(&P.mu);
  atomic_store(&P.stop, 1);
  pthread_cond_broadcast(&P.wake);
  pthread_mutex_unlock(&P.mu);
  for (int i = 0; i < P.started; i++) pthread_join(P.tid[i], NULL);
  P.started = 0;
  atomic_store(&P.stop, 0);
}

static int online_cores(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : (int)n;
}

void qkv_pool_set_threads(int n) {
  if (n <= 0) n = online_cores();
  if (n > MAX_THREADS) n = MAX_THREADS;
  pthread_mutex_lock(&P.run_mu);
  if (n != P.threads) {
    stop_workers();
    P.threads = n;
  }
  pthread_mutex_unlock(&P.run_mu);
}

int qkv_pool_threads(void) {
  if (P.threads == 0) qkv_pool_set_threads(0);
  return P.threads;
}

static void run_inline(qkv_task_fn fn, void *ctx, int ntasks) {
  for (int t = 0; t < ntasks; t++) fn(ctx, t, 0);
}

void qkv_pool_run(qkv_task_fn fn, void *ctx, int ntasks) {
  if (ntasks <= 0) return;
  if (ntasks == 1 || qkv_pool_threads() == 1 || pthread_mutex_trylock(&P.run_mu) != 0) {
    run_inline(fn, ctx, ntasks);
    return;
  }
  if (!P.started) {
    P.start_gen = atomic_load(&P.gen);
    for (int i = 0; i < P.threads - 1; i++) {
      if (pthread_create(&P.tid[i], NULL, worker, (void *)(long)(i + 1)) != 0) break;
      P.started++;
    }
  }
  P.fn = fn;
  P.ctx = ctx;
  P.ntasks = ntasks;
  atomic_store_explicit(&P.next, 0, memory_order_relaxed);
  atomic_store_explicit(&P.busy, P.started, memory_order_relaxed);
  pthread_mutex_lock(&P.mu);
  atomic_fetch_add_explicit(&P.gen, 1, memory_order_release);
  pthread_cond_broadcast(&P.wake);
  pthread_mutex_unlock(&P.mu);
  drain(0);
  /* Every worker checks in before the job's fields may change again. */
  while (atomic_load_explicit(&P.busy, memory_order_acquire) > 0) cpu_relax();
  pthread_mutex_unlock(&P.run_mu);
}
