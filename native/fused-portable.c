/* The fused row kernels compiled for portable (see fused-body.h). */

#include "fused.h"

#define FUSED(name) name##_portable
#include "fused-body.h"

const qkv_fused_rows *const qkv_fused_portable = &FUSED(rows);

