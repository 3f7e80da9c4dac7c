/* Single-precision GEMM: the BLIS-style driver, its micro-kernels per instruction set, and the naive oracle. */
#ifndef QKV_GEMM_H
#define QKV_GEMM_H

#include <stdint.h>

/* A micro-kernel computes one MR×NR tile of C from packed panels:
 *   C[i*rsc + j] (= or, with QKV_UK_ACC, +=) Σ_k pa[k*MR + i] · pb[k*NR + j]   for i < MR, j < NR,
 * adding bias[j] (NR values; NULL: none) and then applying ReLU (QKV_UK_RELU) in registers before the store:
 * the epilogue of a Linear layer, in the order (and so with the rounding) of separate add and relu kernels. */
enum { QKV_UK_ACC = 1, QKV_UK_RELU = 2 };
typedef void (*qkv_sgemm_ukernel)(int64_t kc, const float *pa, const float *pb, float *c, int64_t rsc, int flags,
                                  const float *bias);

/* Packs one panel: mr rows of A read along rows (A(i, k) = src[i*rs + k]) into dst[k*mr + i], or nr columns
 * of B read down columns (B(k, j) = src[j*cs + k]) into dst[k*nr + j]; only the first n (≥ 1) rows or columns
 * are read, the rest of the panel is zero. */
typedef void (*qkv_sgemm_packer)(int64_t kc, const float *src, int64_t stride, float *dst, int n);

/* The direct micro-kernel for small products: A read in place, A(i, k) = a[i*rs + k*cs] for i < rows ≤ MR, B a
 * packed panel as above; writes C[i*rsc + j] = Σ_k A(i, k) · pb[k*NR + j] for i < rows, j < cols ≤ NR. */
typedef void (*qkv_sgemm_direct)(int64_t kc, const float *a, int64_t rs, int64_t cs, int rows, const float *pb,
                                 float *c, int64_t rsc, int cols);

/* A micro-kernel with its tile and cache-block sizes, optional fast packers for its tile, and its direct twin. */
typedef struct {
  const char *name;
  int mr, nr;        /* register tile */
  int mc, kc, nc;    /* cache blocks: A block mc×kc lives in L2, B micro-panel kc×nr in L1 */
  qkv_sgemm_ukernel ukernel;
  int (*supported)(void);
  qkv_sgemm_packer pack_a_rows, pack_b_cols;  /* NULL: the portable loops */
  qkv_sgemm_direct direct;                    /* NULL: small products take the packed path too */
} qkv_sgemm_kernel;

/* Kernels compiled into this build (each from its own translation unit and instruction set). */
extern const qkv_sgemm_kernel qkv_sgemm_portable;
#if defined(__x86_64__)
extern const qkv_sgemm_kernel qkv_sgemm_avx2;
extern const qkv_sgemm_kernel qkv_sgemm_avx512;  /* 12×32 */
extern const qkv_sgemm_kernel qkv_sgemm_avx512_6x32;
extern const qkv_sgemm_kernel qkv_sgemm_avx512_8x32;
extern const qkv_sgemm_kernel qkv_sgemm_avx512_14x32;
#endif
#if defined(__wasm_simd128__)
extern const qkv_sgemm_kernel qkv_sgemm_wasm;      /* 4×8 in f32x4 mul + add (native/wasm/gemm-wasm.c) */
extern const qkv_sgemm_kernel qkv_sgemm_wasm_fma;  /* the same with relaxed SIMD's FMA, where the engine has it */
#endif

/* The kernel in use: the best one this CPU supports, unless qkv_sgemm_use chose another. */
const qkv_sgemm_kernel *qkv_sgemm_current(void);
/* 1 when the kernel computes a tile as defined above on this CPU (its packers, micro-kernel and direct twin, on
 * exact test values); the kernel chosen is the first supported one that passes. */
int qkv_sgemm_kernel_works(const qkv_sgemm_kernel *k);
/* Chooses a kernel by name ("avx512", "avx2", "portable"...); returns 0 if unknown or unsupported. */
int qkv_sgemm_use(const char *name);
/* Overrides the current kernel's cache blocks (values <= 0 keep the default); for tuning runs. */
void qkv_sgemm_tune(int mc, int kc, int nc);
/* Names of all kernels compiled in, whether or not this CPU runs them; null-terminated. */
const qkv_sgemm_kernel *const *qkv_sgemm_all(void);

/* A strided matrix operand: element (r, c) is at p[r*rs + c*cs]. */
typedef struct {
  const float *p;
  int64_t rs, cs;
} qkv_fmat;

/* Batched product on the thread pool: for n < batch, C_n[M×N] = A_n[M×K] · B_n[K×N], where A_n starts at
 * a.p + n*bsa (and likewise B), and C is contiguous [batch, M, N]. Any strides: packing absorbs them. */
void qkv_sgemm(int64_t batch, int64_t M, int64_t N, int64_t K,
               qkv_fmat a, int64_t bsa, qkv_fmat b, int64_t bsb, float *c);

/* What qkv_sgemm_ex does besides the product, each while the data is still in cache: bias and ReLU in the
 * epilogue (after a tile's last K block is stored, or as split-K partial sums are added up), and row sums of A
 * taken from the packed A blocks (a Linear layer's bias gradient Σ_rows dY from the dW = dYᵀ·X product). */
typedef struct {
  const float *bias;  /* N values, contiguous: C_n[i, j] += bias[j]; or NULL */
  int relu;           /* then C_n[i, j] = C_n[i, j] > 0 ? C_n[i, j] : 0 (NaN → 0, as the relu kernel) */
  float *rowsum_a;    /* batch·M values: rowsum_a[n*M + i] = Σ_k A_n(i, k), summed in float; or NULL */
} qkv_sgemm_extras;

/* qkv_sgemm, then the extras (ex may be NULL). C is the same as qkv_sgemm's followed by a separate add and relu,
 * bit for bit. */
void qkv_sgemm_ex(int64_t batch, int64_t M, int64_t N, int64_t K, qkv_fmat a, int64_t bsa, qkv_fmat b, int64_t bsb,
                  float *c, const qkv_sgemm_extras *ex);

/* The helpers of qkv_sgemm_ex's extras (gemm-linear.c). The epilogue of rows×cols values of C (row stride rsc):
 * + bias[j] (NULL: none), then ReLU. */
void qkv_sgemm_epilogue(float *c, int64_t rsc, int64_t rows, int64_t cols, const float *bias, int relu);
/* out[i] (= or += when acc) Σ_k A(i, k) over a packed A block [mc×kc] (panels of mr rows, k-major). */
void qkv_sgemm_rowsum_packed(int mr, int64_t mc, int64_t kc, const float *pa, float *out, int acc);
/* out[i] = Σ_k A(i, k) over A [M×K] read in place (summed in double). */
void qkv_sgemm_rowsum(int64_t M, int64_t K, qkv_fmat a, float *out);

/* A Linear layer (gemm-linear.c): y [M×N] = x [M×K] · wᵀ + bias, then ReLU when relu; w [N×K]; x and w at any
 * strides, bias N contiguous values or NULL. */
void qkv_linear_forward(int64_t M, int64_t N, int64_t K, qkv_fmat x, qkv_fmat w, const float *bias, int relu, float *y);
/* Its backward given g [M×N] (any strides): g' = g, or after a ReLU (y: the forward's output [M×N], contiguous)
 * g' = g ⊙ (y > 0), written into gmask [M×N]; dx [M×K] = g'·w, dw [N×K] = g'ᵀ·x, db [N] = Σ_rows g'. Each of
 * dx, dw, db may be NULL (not wanted). */
void qkv_linear_backward(int64_t M, int64_t N, int64_t K, qkv_fmat x, qkv_fmat w, qkv_fmat g, const float *y,
                         float *gmask, float *dx, float *dw, float *db);

/* Products with at most QKV_SMALL_M rows of A, B read along rows or down columns: computed without
 * packing (returns 1), or declined (returns 0, nothing written). C is contiguous [M, N]. */
#define QKV_SMALL_M 1
int qkv_sgemm_small(int64_t M, int64_t N, int64_t K, qkv_fmat a, qkv_fmat b, float *c);
/* Lets qkv_sgemm use qkv_sgemm_small (the default) or not (checks and benchmarks of the packed path). */
void qkv_sgemm_small_enable(int on);
/* Lets qkv_sgemm use the kernels' direct twins for small products (the default) or not (checks, benchmarks). */
void qkv_sgemm_direct_enable(int on);
/* Lets qkv_sgemm split long-K products with a small C over K (the default) or not (checks, benchmarks). */
void qkv_sgemm_ksplit_enable(int on);

/* The version-0 oracle: a triple loop with a double accumulator, one thread. Same arguments. */
void qkv_sgemm_naive(int64_t batch, int64_t M, int64_t N, int64_t K,
                     qkv_fmat a, int64_t bsa, qkv_fmat b, int64_t bsb, float *c);

#endif
