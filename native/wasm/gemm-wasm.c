/* The WebAssembly SIMD128 sgemm micro-kernel: an MR×NR tile in MR·NR/4 f32x4 accumulators (mul + add; wasm has no
 * FMA outside relaxed SIMD). 4×8: 8 accumulators, 2 rows of B, a broadcast of A and a product, 12 live v128 values;
 * engines keep them in x86-64's 16 xmm registers less a few they reserve. Timed on V8 11 (Node 20, an AMD EPYC, by
 * CPU time, 256³ and 512³), 4×8 was the fastest: 3×8, 8×4 and 2×12 ran at about 0.9× of it, 6×8, 4×12 and 5×8
 * (more live values than registers) at 0.65-0.8×. */
#if defined(__wasm_simd128__)
#include <stddef.h>
#include <wasm_simd128.h>

#include "../gemm.h"

#ifndef QKV_WASM_MR
#define QKV_WASM_MR 4
#endif
#ifndef QKV_WASM_NV
#define QKV_WASM_NV 2
#endif
#ifndef QKV_WASM_KC
#define QKV_WASM_KC 256
#endif
#ifndef QKV_WASM_MC
#define QKV_WASM_MC (16 * QKV_WASM_MR)
#endif
#define MR QKV_WASM_MR
#define NV QKV_WASM_NV
#define NR (4 * NV)

/* One vector of a finished tile into C: + C (QKV_UK_ACC), + bias, ReLU, in the order of separate add and relu kernels. */
static inline void store(float *c, v128_t x, int flags, const float *bias) {
  if (flags & QKV_UK_ACC) x = wasm_f32x4_add(wasm_v128_load(c), x);
  if (bias) x = wasm_f32x4_add(x, wasm_v128_load(bias));
  if (flags & QKV_UK_RELU) x = wasm_f32x4_pmax(wasm_f32x4_splat(0.0f), x); /* 0 < x ? x : 0: NaN → 0, as the relu kernel */
  wasm_v128_store(c, x);
}

static void ukernel(int64_t kc, const float *pa, const float *pb, float *c, int64_t rsc, int flags, const float *bias) {
  v128_t acc[MR][NV];
#pragma unroll
  for (int i = 0; i < MR; i++)
#pragma unroll
    for (int v = 0; v < NV; v++) acc[i][v] = wasm_f32x4_splat(0.0f);
  for (int64_t k = 0; k < kc; k++) {
    v128_t b[NV];
#pragma unroll
    for (int v = 0; v < NV; v++) b[v] = wasm_v128_load(pb + 4 * v);
#pragma unroll
    for (int i = 0; i < MR; i++) {
      v128_t a = wasm_v128_load32_splat(pa + i);
#pragma unroll
      for (int v = 0; v < NV; v++) acc[i][v] = wasm_f32x4_add(acc[i][v], wasm_f32x4_mul(a, b[v]));
    }
    pa += MR;
    pb += NR;
  }
#pragma unroll
  for (int i = 0; i < MR; i++)
#pragma unroll
    for (int v = 0; v < NV; v++) store(c + i * rsc + 4 * v, acc[i][v], flags, bias ? bias + 4 * v : NULL);
}

/* The direct twin: A read in place through its strides (rows past `rows` repeat the last one), C written for
 * rows × cols only. */
static void direct(int64_t kc, const float *a, int64_t rs, int64_t cs, int rows, const float *pb, float *c, int64_t rsc,
                   int cols) {
  const float *ar[MR];
#pragma unroll
  for (int i = 0; i < MR; i++) ar[i] = a + (i < rows ? i : rows - 1) * rs;
  v128_t acc[MR][NV];
#pragma unroll
  for (int i = 0; i < MR; i++)
#pragma unroll
    for (int v = 0; v < NV; v++) acc[i][v] = wasm_f32x4_splat(0.0f);
  for (int64_t k = 0; k < kc; k++) {
    v128_t b[NV];
#pragma unroll
    for (int v = 0; v < NV; v++) b[v] = wasm_v128_load(pb + 4 * v);
#pragma unroll
    for (int i = 0; i < MR; i++) {
      v128_t x = wasm_v128_load32_splat(ar[i] + k * cs);
#pragma unroll
      for (int v = 0; v < NV; v++) acc[i][v] = wasm_f32x4_add(acc[i][v], wasm_f32x4_mul(x, b[v]));
    }
    pb += NR;
  }
  float tile[MR * NR];
#pragma unroll
  for (int i = 0; i < MR; i++)
#pragma unroll
    for (int v = 0; v < NV; v++) wasm_v128_store(tile + i * NR + 4 * v, acc[i][v]);
  for (int i = 0; i < rows; i++) {
    for (int j = 0; j < cols; j++) c[i * rsc + j] = tile[i * NR + j];
  }
}

static int always(void) { return 1; }

/* Blocks: A block mc×kc (64×256 floats, 64 KiB) in L2, a B micro-panel kc×8 (8 KiB) in L1. */
const qkv_sgemm_kernel qkv_sgemm_wasm = {"simd128", MR, NR, QKV_WASM_MC, QKV_WASM_KC, 2048, ukernel, always, NULL, NULL, direct};

/* ---- the relaxed-SIMD FMA kernel ------------------------------------------------------------------- */

/* A 4×8 tile of f32x4.relaxed_madd over packed panels (what ukernel's loop computes, fused): tile[i*8 + j] =
 * Σ_k pa[k*4 + i]·pb[k*8 + j]. Assembled by src/backend/wasm-fma.ts, since clang 14 emits relaxed SIMD's prototype
 * opcodes only, and imported; called only once qkv_w_enable_fma has switched it on. */
__attribute__((import_module("env"), import_name("qkv_fma_tile"))) void qkv_fma_tile(int32_t kc, const float *pa, const float *pb,
                                                                                        float *tile);

static int fma_on;
static int fma_supported(void) { return fma_on; }

static void ukernel_fma(int64_t kc, const float *pa, const float *pb, float *c, int64_t rsc, int flags, const float *bias) {
  float tile[32] __attribute__((aligned(16)));
  qkv_fma_tile((int32_t)kc, pa, pb, tile);
#pragma unroll
  for (int i = 0; i < 4; i++)
#pragma unroll
    for (int v = 0; v < 2; v++) store(c + i * rsc + 4 * v, wasm_v128_load(tile + i * 8 + 4 * v), flags, bias ? bias + 4 * v : NULL);
}

/* The direct twin stays mul + add (small products are bound by their loads and calls, not the arithmetic). */
const qkv_sgemm_kernel qkv_sgemm_wasm_fma = {"simd128-fma", 4, 8, 64, 256, 2048, ukernel_fma, fma_supported, NULL, NULL, direct};

/* Switches the FMA kernel on (the engine validated the imported tile): it becomes the kernel in use if it passes the
 * self-check. Call before any product (the kernel chosen is kept). Returns 1 when it is in use. */
__attribute__((export_name("qkv_w_enable_fma"))) int qkv_w_enable_fma(void) {
  fma_on = 1;
  return qkv_sgemm_use("simd128-fma");
}
#endif
