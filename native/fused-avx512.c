/* The fused row kernels compiled for avx512 (see fused-body.h). */
#if defined(__x86_64__)
#include "fused.h"

#define FUSED(name) name##_avx512
#include "fused-body.h"

const qkv_fused_rows *const qkv_fused_avx512 = &FUSED(rows);
#endif
