/* One decoding step of one Transformer block (incremental decoding with a KV cache), in one call. */
#ifndef QKV_DECODE_H
#define QKV_DECODE_H

#include <stdint.h>

/* A block as torch.nn.TransformerEncoderLayer computes it at inference (no dropout), for B rows of one
 * new position each:
 *   pre-norm   x1 = x + SA(LN1(x));   out = x1 + FF(LN2(x1))
 *   post-norm  x1 = LN1(x + SA(x));   out = LN2(x1 + FF(x1))
 * SA projects q, k, v with in_w (rows 0..D, D..2D, 2D..3D), writes k and v at position s0 of the caches,
 * and attends with softmax(q·kᵀ/√K) over positions 0..s0 (the new position sees every cached one and
 * itself); FF(h) = act(h·l1_wᵀ + l1_b)·l2_wᵀ + l2_b with act ReLU or exact GELU. Every array is
 * contiguous float32; biases and LayerNorm weights may be NULL (none). */
typedef struct {
  int64_t B, D, H, F;          /* rows, d_model, heads (K = D / H), d_ff */
  int64_t max_len, s0;         /* cache capacity, positions already filled (s0 < max_len) */
  int norm_first, gelu;        /* pre-norm; GELU (else ReLU) */
  float eps;                   /* LayerNorm ε */
  const float *x;              /* [B, D] */
  float *out;                  /* [B, D]; may be x */
  const float *in_w, *in_b;    /* [3D, D], [3D] */
  const float *out_w, *out_b;  /* [D, D], [D] */
  const float *n1_w, *n1_b, *n2_w, *n2_b;  /* [D] each */
  const float *l1_w, *l1_b;    /* [F, D], [F] */
  const float *l2_w, *l2_b;    /* [D, F], [D] */
  float *k_cache, *v_cache;    /* [B, H, max_len, K]: position s0 is written */
} qkv_decode_args;

/* Runs the step; the products go through qkv_sgemm (one-row products without packing). Returns 0 when
 * out of memory (nothing written then). */
int qkv_decode_block(const qkv_decode_args *a);

#endif
