/* A small persistent pthread pool: workers spin briefly for new work, then sleep on a condition variable. */
#ifndef QKV_POOL_H
#define QKV_POOL_H

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

#endif
