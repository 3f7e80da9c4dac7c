/* pool.h for a single-threaded WebAssembly build: tasks run inline on the caller, scratch is one set of buffers. */
#include <stdlib.h>

#include "../pool.h"

void qkv_pool_set_threads(int n) { (void)n; }

int qkv_pool_threads(void) { return 1; }

void qkv_pool_run(qkv_task_fn fn, void *ctx, int ntasks) {
  for (int t = 0; t < ntasks; t++) fn(ctx, t, 0);
}

static float *scratch[QKV_SCRATCH_SLOTS];
static size_t scratch_n[QKV_SCRATCH_SLOTS];

float *qkv_thread_scratch(int slot, size_t n) {
  if (n == 0) n = 1;
  if (scratch_n[slot] < n) {
    free(scratch[slot]);
    scratch[slot] = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    scratch_n[slot] = scratch[slot] ? n : 0;
  }
  return scratch[slot];
}
