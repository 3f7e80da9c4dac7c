/* A small persistent pthread pool: workers spin briefly for new work, then sleep on a condition variable. */
#ifndef QKV_POOL_H
#define QKV_POOL_H

#include <stddef.h>

/* One unit of parallel work. `task` runs in [0, ntasks); `thread` is in [0, threads) and names the
 * OS thread running it (0 is the caller), so a task may use per-thread scratch. */
typedef void (*qkv_task_fn)(void *ctx, int task, int thread);

/* Sets the number of threads (caller included). n <= 0 means all online cores. Workers start lazily. */
void qkv_pool_set_threads(int n);
/* The configured thread count. */
int qkv_pool_threads(void);
/* Runs fn(ctx, t, thread) for every t in [0, ntasks) and returns when all are done. Runs inline when
 * ntasks == 1, the pool has one thread, or the pool is busy (a nested or concurrent call). */
void qkv_pool_run(qkv_task_fn fn, void *ctx, int ntasks);

/* Per-thread scratch: one growable buffer per slot and thread, kept from call to call and freed when the thread
 * ends (the pool's workers end when the thread count changes). */
enum { QKV_SCRATCH_PACK_A, QKV_SCRATCH_PACK_B, QKV_SCRATCH_KSPLIT, QKV_SCRATCH_ATTENTION, QKV_SCRATCH_SLOTS };
/* This thread's buffer `slot` with room for at least n floats (64-byte aligned; its contents are not kept when
 * it grows); NULL when out of memory. */
float *qkv_thread_scratch(int slot, size_t n);

#endif
