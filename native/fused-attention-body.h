/* Fused attention over one (batch, head), included by fused-body.h once per instruction set.
 *
 * softmax(Q·Kᵀ·scale + mask)·V without the T×S matrix: queries go in blocks of 4 rows, and only
 * that block's 4×S scores live (in per-thread scratch). Keys are packed transposed once per head so
 * the scores of 4 queries × 16 keys are one register tile; masked-out key ranges at the end of a
 * block (the causal case) are skipped. The forward saves each row's log-sum-exp; the backward
 * recomputes the probabilities from it (flash attention's recipe), accumulating dK and dV per head. */

#if defined(__AVX2__)
#include "gemm-pack-x86.h"  /* tr8x8 */
#endif
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

#define QB 4
#define NB 16
#define RUP(n) (((n) + NB - 1) / NB * NB)

/* C[4][16] = A[4][L] · B[L][16] (A rows lda apart, B rows ldb apart), C rows ldc apart. */
static inline void FUSED(tile)(int64_t L, const float *restrict A, int64_t lda, const float *restrict B, int64_t ldb,
                               float *restrict C, int64_t ldc) {
#if defined(__AVX2__) && defined(__FMA__)
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int64_t l = 0; l < L; l++) {
    __m256 b0 = _mm256_loadu_ps(B + l * ldb), b1 = _mm256_loadu_ps(B + l * ldb + 8);
    __m256 a = _mm256_broadcast_ss(A + l);
    c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(A + lda + l);
    c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(A + 2 * lda + l);
    c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(A + 3 * lda + l);
    c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
  }
  _mm256_storeu_ps(C, c00); _mm256_storeu_ps(C + 8, c01);
  _mm256_storeu_ps(C + ldc, c10); _mm256_storeu_ps(C + ldc + 8, c11);
  _mm256_storeu_ps(C + 2 * ldc, c20); _mm256_storeu_ps(C + 2 * ldc + 8, c21);
  _mm256_storeu_ps(C + 3 * ldc, c30); _mm256_storeu_ps(C + 3 * ldc + 8, c31);
#elif defined(__wasm_simd128__)
  /* Two 4×8 halves: a 4×16 tile's 16 f32x4 accumulators would not fit the engine's registers (V8 spilled them). */
  for (int h = 0; h < NB; h += 8) {
    v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (int64_t l = 0; l < L; l++) {
      const float *b = B + l * ldb + h;
      v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4), a;
      a = wasm_v128_load32_splat(A + l);
      c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a, b0)); c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a, b1));
      a = wasm_v128_load32_splat(A + lda + l);
      c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a, b0)); c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a, b1));
      a = wasm_v128_load32_splat(A + 2 * lda + l);
      c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a, b0)); c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a, b1));
      a = wasm_v128_load32_splat(A + 3 * lda + l);
      c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a, b0)); c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a, b1));
    }
    float *c = C + h;
    wasm_v128_store(c, c00); wasm_v128_store(c + 4, c01);
    wasm_v128_store(c + ldc, c10); wasm_v128_store(c + ldc + 4, c11);
    wasm_v128_store(c + 2 * ldc, c20); wasm_v128_store(c + 2 * ldc + 4, c21);
    wasm_v128_store(c + 3 * ldc, c30); wasm_v128_store(c + 3 * ldc + 4, c31);
  }
#else
  float acc[QB][NB] = {{0}};
  for (int64_t l = 0; l < L; l++) {
    for (int r = 0; r < QB; r++) {
      float a = A[r * lda + l];
      for (int j = 0; j < NB; j++) acc[r][j] += a * B[l * ldb + j];
    }
  }
  for (int r = 0; r < QB; r++) memcpy(C + r * ldc, acc[r], sizeof acc[r]);
#endif
}

/* C[4][N] = A[4][L] · B[L][N], N a multiple of 16. */
static void FUSED(block_product)(int64_t L, int64_t N, const float *A, int64_t lda, const float *B, int64_t ldb, float *C, int64_t ldc) {
  for (int64_t j = 0; j < N; j += NB) FUSED(tile)(L, A, lda, B + j, ldb, C + j, ldc);
}

/* C[s][0..n) += Σ_r P[r][s]·Bm[r][0..n) for s < L: the rank-4 updates of dK and dV. */
static void FUSED(rank4)(int64_t L, int64_t n, const float *P, int64_t ldp, const float *restrict Bm, int64_t ldb,
                         float *restrict C, int64_t ldc) {
  const float *b0 = Bm, *b1 = Bm + ldb, *b2 = Bm + 2 * ldb, *b3 = Bm + 3 * ldb;
  for (int64_t s = 0; s < L; s++) {
    float p0 = P[s], p1 = P[ldp + s], p2 = P[2 * ldp + s], p3 = P[3 * ldp + s];
    if (p0 == 0 && p1 == 0 && p2 == 0 && p3 == 0) continue;
    float *restrict c = C + s * ldc;
    for (int64_t j = 0; j < n; j++) c[j] += p0 * b0[j] + p1 * b1[j] + p2 * b2[j] + p3 * b3[j];
  }
}

/* dst[i·ldd + s] = src[s·ld + i] for i < cols, s < rows, and 0 for rows ≤ s < RUP(rows): a head's keys or values
 * transposed into rows of padded length. 8×8 blocks in registers (tr8x8) where AVX2 has them (a scalar transpose,
 * one float at a time with strided stores, was ~45% of the attention kernels at G2P sizes). */
static void FUSED(transpose_pad)(const float *restrict src, int64_t rows, int64_t ld, int64_t cols, float *restrict dst, int64_t ldd) {
  int64_t rp = RUP(rows), i0 = 0;
#if defined(__AVX2__)
  static const float zero8[8] = {0};
  for (; i0 + 8 <= cols; i0 += 8) {
    for (int64_t s0 = 0; s0 < rp; s0 += 8) {
      __m256 r[8];
      for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(s0 + j < rows ? src + (s0 + j) * ld + i0 : zero8);
      tr8x8(r);
      float *d = dst + i0 * ldd + s0;
      for (int j = 0; j < 8; j++) _mm256_storeu_ps(d + j * ldd, r[j]);
    }
  }
#endif
  for (int64_t i = i0; i < cols; i++) {
    float *d = dst + i * ldd;
    for (int64_t s = 0; s < rows; s++) d[s] = src[s * ld + i];
    for (int64_t s = rows; s < rp; s++) d[s] = 0;
  }
}

/* Scratch layout of one head (floats); see qkv_attn_scratch in attention.c, which must agree. */
typedef struct {
  float *kT, *vT, *kp, *vp, *qb, *ob, *sc, *dp, *ok, *dk, *dv;
} FUSED(attn_scratch);

static FUSED(attn_scratch) FUSED(attn_carve)(const qkv_attn_args *a, float *w) {
  int64_t S = a->S, K = a->K, Vd = a->Vd, Sp = RUP(S), Kp = RUP(K), Vp = RUP(Vd);
  FUSED(attn_scratch) z;
  z.kT = w; w += K * Sp;
  z.vT = w; w += Vd * Sp;
  z.kp = w; w += S * Kp;
  z.vp = w; w += S * Vp;
  z.qb = w; w += QB * Kp;
  z.ob = w; w += QB * Vp;
  z.sc = w; w += QB * Sp;
  z.dp = w; w += QB * Sp;
  z.ok = w; w += QB * Sp;
  z.dk = w; w += S * Kp;
  z.dv = w;
  return z;
}

/* The allowed keys of query rows t0..t0+mr as ok[r][s] (1 or 0; rows from mr on all 0): the driver's shared rows
 * when it made them, else marked in `ok` from this head's mask. Sets *lim to 1 + the last allowed key of any row. */
static const float *FUSED(attn_allowed)(const qkv_attn_args *a, int64_t b, int64_t h, int64_t t0, int mr, float *ok, int64_t Sp,
                                        int64_t *lim_out) {
  if (a->ok_rows) {
    *lim_out = a->ok_lim[b * a->ok_lim_bs + t0 / QB];
    return a->ok_rows + b * a->ok_bs + t0 * Sp;
  }
  int64_t lim = 0;
  for (int r = 0; r < QB; r++) {
    float *o = ok + r * Sp;
    if (r >= mr) { memset(o, 0, Sp * sizeof(float)); continue; }
    if (!a->mask) {
      for (int64_t s = 0; s < a->S; s++) o[s] = 1;
      lim = a->S;
    } else {
      int64_t base = b * a->sm[0] + h * a->sm[1] + (t0 + r) * a->sm[2];
      for (int64_t s = 0; s < a->S; s++) {
        int64_t i = base + s * a->sm[3];
        int masked = a->mask_i32 ? ((const int32_t *)a->mask)[i] != 0 : ((const float *)a->mask)[i] != 0;
        o[s] = masked ? 0.0f : 1.0f;
        if (!masked && s + 1 > lim) lim = s + 1;
      }
    }
    for (int64_t s = a->S; s < Sp; s++) o[s] = 0;
  }
  *lim_out = lim;
  return ok;
}

/* Packs the head's keys (transposed, and padded rows) and values. */
static void FUSED(attn_pack)(const qkv_attn_args *a, int64_t b, int64_t h, FUSED(attn_scratch) *z, int backward) {
  int64_t S = a->S, K = a->K, Vd = a->Vd, Sp = RUP(S), Kp = RUP(K), Vp = RUP(Vd);
  const float *k = a->k + b * a->sk[0] + h * a->sk[1];
  const float *v = a->v + b * a->sv[0] + h * a->sv[1];
  FUSED(transpose_pad)(k, S, a->sk[2], K, z->kT, Sp);
  if (!backward) {
    for (int64_t s = 0; s < S; s++) {
      memcpy(z->vp + s * Vp, v + s * a->sv[2], Vd * sizeof(float));
      memset(z->vp + s * Vp + Vd, 0, (Vp - Vd) * sizeof(float));
    }
    return;
  }
  FUSED(transpose_pad)(v, S, a->sv[2], Vd, z->vT, Sp);
  for (int64_t s = 0; s < S; s++) {
    memcpy(z->kp + s * Kp, k + s * a->sk[2], K * sizeof(float));
    memset(z->kp + s * Kp + K, 0, (Kp - K) * sizeof(float));
  }
}

/* Copies query rows t0..t0+mr into qb [4][Kp], zero rows below mr. */
static void FUSED(attn_load_q)(const qkv_attn_args *a, int64_t b, int64_t h, int64_t t0, int mr, float *qb) {
  int64_t K = a->K, Kp = RUP(K);
  const float *q = a->q + b * a->sq[0] + h * a->sq[1];
  memset(qb, 0, QB * Kp * sizeof(float));
  for (int r = 0; r < mr; r++) memcpy(qb + r * Kp, q + (t0 + r) * a->sq[2], K * sizeof(float));
}

static void FUSED(attn_forward)(const qkv_attn_args *a, int64_t bh, float *w) {
  int64_t b = bh / a->H, h = bh % a->H;
  int64_t T = a->T, K = a->K, Vd = a->Vd, Sp = RUP(a->S), Vp = RUP(Vd);
  FUSED(attn_scratch) z = FUSED(attn_carve)(a, w);
  FUSED(attn_pack)(a, b, h, &z, 0);
  for (int64_t t0 = 0; t0 < T; t0 += QB) {
    int mr = T - t0 < QB ? (int)(T - t0) : QB;
    int64_t lim;
    const float *okb = FUSED(attn_allowed)(a, b, h, t0, mr, z.ok, Sp, &lim);
    float sums[QB] = {0};
    if (lim > 0) {
      FUSED(attn_load_q)(a, b, h, t0, mr, z.qb);
      FUSED(block_product)(K, RUP(lim), z.qb, RUP(K), z.kT, Sp, z.sc, Sp);  /* scores [4][lim] */
      for (int r = 0; r < mr; r++) {
        float *sc = z.sc + r * Sp;
        const float *ok = okb + r * Sp;
        float m = -INFINITY;
        for (int64_t s = 0; s < lim; s++) {
          sc[s] *= a->scale;
          if (ok[s] != 0 && sc[s] > m) m = sc[s];
        }
        float sum = 0;
        if (m != -INFINITY) {
          for (int64_t s = 0; s < lim; s++) sc[s] = FUSED(expf_fast)(sc[s] - m);
          for (int64_t s = 0; s < lim; s++) sc[s] = ok[s] != 0 ? sc[s] : 0.0f;  /* a select: masked scores may be +inf */
          for (int64_t s = 0; s < lim; s++) sum += sc[s];
        } else {
          memset(sc, 0, lim * sizeof(float));
        }
        sums[r] = sum;
        a->lse[bh * T + t0 + r] = m == -INFINITY ? -INFINITY : m + logf(sum);
      }
      for (int r = mr; r < QB; r++) memset(z.sc + r * Sp, 0, lim * sizeof(float));
      FUSED(block_product)(lim, Vp, z.sc, Sp, z.vp, Vp, z.ob, Vp);  /* P·V, unnormalised */
    } else {
      for (int r = 0; r < mr; r++) a->lse[bh * T + t0 + r] = -INFINITY;
    }
    for (int r = 0; r < mr; r++) {
      float *o = a->out + b * a->so[0] + h * a->so[1] + (t0 + r) * a->so[2];
      if (lim == 0 || sums[r] == 0) { memset(o, 0, Vd * sizeof(float)); continue; }
      float inv = 1.0f / sums[r];
      for (int64_t j = 0; j < Vd; j++) o[j] = z.ob[r * Vp + j] * inv;
    }
  }
}

static void FUSED(attn_backward)(const qkv_attn_args *a, int64_t bh, float *w) {
  int64_t b = bh / a->H, h = bh % a->H;
  int64_t T = a->T, S = a->S, K = a->K, Vd = a->Vd, Sp = RUP(S), Kp = RUP(K), Vp = RUP(Vd);
  FUSED(attn_scratch) z = FUSED(attn_carve)(a, w);
  FUSED(attn_pack)(a, b, h, &z, 1);
  memset(z.dk, 0, S * Kp * sizeof(float));
  memset(z.dv, 0, S * Vp * sizeof(float));
  for (int64_t t0 = 0; t0 < T; t0 += QB) {
    int mr = T - t0 < QB ? (int)(T - t0) : QB;
    int64_t lim;
    const float *okb = FUSED(attn_allowed)(a, b, h, t0, mr, z.ok, Sp, &lim);
    float *dq = a->dq + b * a->sdq[0] + h * a->sdq[1] + t0 * a->sdq[2];
    if (lim == 0) { for (int r = 0; r < mr; r++) memset(dq + r * a->sdq[2], 0, K * sizeof(float)); continue; }
    FUSED(attn_load_q)(a, b, h, t0, mr, z.qb);
    /* dO block [4][Vp] and D_r = dO_r · O_r. */
    float D[QB] = {0};
    memset(z.ob, 0, QB * Vp * sizeof(float));
    for (int r = 0; r < mr; r++) {
      const float *g = a->dout + b * a->sdo[0] + h * a->sdo[1] + (t0 + r) * a->sdo[2];
      const float *o = a->out + b * a->so[0] + h * a->so[1] + (t0 + r) * a->so[2];
      memcpy(z.ob + r * Vp, g, Vd * sizeof(float));
      float d = 0;
      for (int64_t j = 0; j < Vd; j++) d += g[j] * o[j];
      D[r] = d;
    }
    int64_t limp = RUP(lim);
    FUSED(block_product)(K, limp, z.qb, Kp, z.kT, Sp, z.sc, Sp);   /* scores */
    FUSED(block_product)(Vd, limp, z.ob, Vp, z.vT, Sp, z.dp, Sp);  /* dP = dO·Vᵀ */
    for (int r = 0; r < QB; r++) {
      float *p = z.sc + r * Sp, *dp = z.dp + r * Sp;
      const float *ok = okb + r * Sp;
      float lse = r < mr ? a->lse[bh * T + t0 + r] : -INFINITY;
      if (lse == -INFINITY) { memset(p, 0, limp * sizeof(float)); memset(dp, 0, limp * sizeof(float)); continue; }
      for (int64_t s = 0; s < limp; s++) p[s] = FUSED(expf_fast)(p[s] * a->scale - lse);
      for (int64_t s = 0; s < limp; s++) p[s] = ok[s] != 0 ? p[s] : 0.0f;
      for (int64_t s = 0; s < limp; s++) dp[s] = p[s] * (dp[s] - D[r]);  /* dS */
    }
    FUSED(rank4)(lim, Vp, z.sc, Sp, z.ob, Vp, z.dv, Vp);   /* dV += Pᵀ·dO */
    FUSED(rank4)(lim, Kp, z.dp, Sp, z.qb, Kp, z.dk, Kp);   /* dK += dSᵀ·Q (scaled below) */
    FUSED(block_product)(lim, Kp, z.dp, Sp, z.kp, Kp, z.qb, Kp);  /* dQ = dS·K, into qb (Q is done) */
    for (int r = 0; r < mr; r++) for (int64_t i = 0; i < K; i++) dq[r * a->sdq[2] + i] = z.qb[r * Kp + i] * a->scale;
  }
  float *dk = a->dk + b * a->sdk[0] + h * a->sdk[1], *dv = a->dv + b * a->sdv[0] + h * a->sdv[1];
  for (int64_t s = 0; s < S; s++) {
    for (int64_t i = 0; i < K; i++) dk[s * a->sdk[2] + i] = z.dk[s * Kp + i] * a->scale;
    memcpy(dv + s * a->sdv[2], z.dv + s * Vp, Vd * sizeof(float));
  }
}

#undef QB
#undef NB
#undef RUP
