/* The thread pool. A job is published as one atomic "ticket" (generation, task count, next task);
 * threads claim tasks by compare-and-swap on it, so a late or descheduled worker can never hold a
 * job up: the caller waits only for tasks actually claimed, and claims the rest itself. */
#define _GNU_SOURCE
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

/* How long an idle worker spins before it sleeps: long enough to bridge the gap between two
 * kernels of one training step, short enough that an idle process does not burn a core. */
#define SPIN_NS 200000L
#define MAX_THREADS 256

/* Ticket layout: generation (24 bits) | ntasks (20 bits) | next task (20 bits). */
#define T_GEN(t) ((uint32_t)((t) >> 40))
#define T_N(t) ((int)(((t) >> 20) & 0xFFFFF))
#define T_NEXT(t) ((int)((t) & 0xFFFFF))
#define MAX_TASKS 0xFFFFF

static struct {
  pthread_mutex_t mu;
  pthread_cond_t wake;
  pthread_mutex_t run_mu;            /* one qkv_pool_run at a time */
  _Atomic uint64_t ticket;
  atomic_uint gen;                   /* what idle workers watch; equals the ticket's generation */
  atomic_int done;                   /* tasks of the current job finished */
  atomic_int sleepers;
  atomic_int stop;
  _Atomic(qkv_task_fn) fn;
  _Atomic(void *) ctx;
  int threads;                       /* configured, caller included */
  int started;                       /* workers running */
  pthread_t tid[MAX_THREADS];
} P = {.mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .run_mu = PTHREAD_MUTEX_INITIALIZER};

static long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* Claims and runs tasks of generation `gen` until none are left. A successful claim means the job
 * is unfinished, so its fn and ctx (read after the ticket) are still the ones published with it. */
static void drain(uint32_t gen, int thread) {
  for (;;) {
    uint64_t t = atomic_load_explicit(&P.ticket, memory_order_acquire);
    if (T_GEN(t) != gen || T_NEXT(t) >= T_N(t)) return;
    qkv_task_fn fn = atomic_load_explicit(&P.fn, memory_order_relaxed);
    void *ctx = atomic_load_explicit(&P.ctx, memory_order_relaxed);
    if (atomic_compare_exchange_weak_explicit(&P.ticket, &t, t + 1, memory_order_acq_rel, memory_order_relaxed)) {
      fn(ctx, T_NEXT(t), thread);
      atomic_fetch_add_explicit(&P.done, 1, memory_order_release);
    }
  }
}

static void *worker(void *arg) {
  int thread = (int)(long)arg;
  unsigned seen = atomic_load(&P.gen);
  for (;;) {
    long t0 = now_ns();
    unsigned g;
    int spins = 0;
    while ((g = atomic_load_explicit(&P.gen, memory_order_acquire)) == seen && !atomic_load(&P.stop)) {
      cpu_relax();
      if (++spins % 256 == 0 && now_ns() - t0 > SPIN_NS) {
        pthread_mutex_lock(&P.mu);
        atomic_fetch_add(&P.sleepers, 1);
        while ((g = atomic_load(&P.gen)) == seen && !atomic_load(&P.stop)) pthread_cond_wait(&P.wake, &P.mu);
        atomic_fetch_sub(&P.sleepers, 1);
        pthread_mutex_unlock(&P.mu);
        break;
      }
    }
    if (atomic_load(&P.stop)) return NULL;
    seen = g;
    drain(g & 0xFFFFFF, thread);
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

void qkv_pool_run(qkv_task_fn fn, void *ctx, int ntasks) {
  if (ntasks <= 0) return;
  if (ntasks == 1 || ntasks > MAX_TASKS || qkv_pool_threads() == 1 || pthread_mutex_trylock(&P.run_mu) != 0) {
    for (int t = 0; t < ntasks; t++) fn(ctx, t, 0);
    return;
  }
  while (P.started < P.threads - 1) {
    if (pthread_create(&P.tid[P.started], NULL, worker, (void *)(long)(P.started + 1)) != 0) break;
    P.started++;
  }
  unsigned g = (atomic_load(&P.gen) + 1) & 0xFFFFFF;
  atomic_store_explicit(&P.fn, fn, memory_order_relaxed);
  atomic_store_explicit(&P.ctx, ctx, memory_order_relaxed);
  atomic_store_explicit(&P.done, 0, memory_order_relaxed);
  atomic_store_explicit(&P.ticket, ((uint64_t)g << 40) | ((uint64_t)ntasks << 20), memory_order_release);
  atomic_store_explicit(&P.gen, g, memory_order_release);
  if (atomic_load(&P.sleepers) > 0) {
    pthread_mutex_lock(&P.mu);
    pthread_cond_broadcast(&P.wake);
    pthread_mutex_unlock(&P.mu);
  }
  drain(g, 0);
  /* Wait for tasks other threads claimed; give the core away if one of them is descheduled. */
  for (long spins = 0; atomic_load_explicit(&P.done, memory_order_acquire) < ntasks; spins++) {
    if (spins < 20000) cpu_relax();
    else sched_yield();
  }
  pthread_mutex_unlock(&P.run_mu);
}

/* ---- per-thread scratch ------------------------------------------------------------------------ */

typedef struct {
  float *p[QKV_SCRATCH_SLOTS];
  size_t n[QKV_SCRATCH_SLOTS];
} scratch_set;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void free_scratch(void *v) {
  scratch_set *s = v;
  for (int i = 0; i < QKV_SCRATCH_SLOTS; i++) free(s->p[i]);
  free(s);
}

static void make_scratch_key(void) { pthread_key_create(&scratch_key, free_scratch); }

float *qkv_thread_scratch(int slot, size_t n) {
  pthread_once(&scratch_once, make_scratch_key);
  scratch_set *s = pthread_getspecific(scratch_key);
  if (!s) {
    if (!(s = calloc(1, sizeof *s))) return NULL;
    pthread_setspecific(scratch_key, s);
  }
  if (n == 0) n = 1;
  if (s->n[slot] < n) {
    free(s->p[slot]);
    s->p[slot] = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    s->n[slot] = s->p[slot] ? n : 0;
  }
  return s->p[slot];
}
