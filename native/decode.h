/* One decoding step (incremental decoding with a KV cache) of one Transformer block, or of a whole decoder-only stack, in one call. */
#ifndef QKV_DECODE_H
#define QKV_DECODE_H

#include <stdint.h>

/* A block as torch.nn.TransformerEncoderLayer computes it at inference (no dropout), for B rows of one
 * new position each:
 *   pre-norm   x1 = x + SA(LN1(x));   out = x1 + FF(LN2(x1))
 *   post-norm  x1 = LN1(x + SA(x));   out = LN2(x1 + FF(x1))
 * SA projects q, k, v with in_w (rows 0..D, D..2D, 2D..3D), writes k and v at position s0 of the caches,
 * and attends with softmax(q·kᵀ/√K) over positions 0..s0 (the new position sees every cached one and
 * itself); FF(h) = act(h·l1_wᵀ + l1_b)·l2_wᵀ + l2_b with act ReLU, exact GELU or GELU's tanh form. Every array is
 * contiguous float32; biases and LayerNorm weights may be NULL (none). */
typedef struct {
  int64_t B, D, H, F;          /* rows, d_model, heads (K = D / H), d_ff */
  int64_t max_len, s0;         /* cache capacity, positions already filled (s0 < max_len) */
  int norm_first, gelu;        /* pre-norm; 0 ReLU, 1 exact GELU (erf), 2 GELU's tanh form (gelu_new) */
  float eps;                   /* LayerNorm ε */
  const float *x;              /* [B, D] */
  float *out;                  /* [B, D]; may be x */
  const float *in_w, *in_b;    /* [3D, D], [3D] */
  const float *out_w, *out_b;  /* [D, D], [D] */
  const float *n1_w, *n1_b, *n2_w, *n2_b;  /* [D] each */
  const float *l1_w, *l1_b;    /* [F, D], [F] */
  const float *l2_w, *l2_b;    /* [D, F], [D] */
  float *k_cache, *v_cache;    /* [B, H, max_len, K]: position s0 is written */
  const int32_t *pos;          /* [B] or NULL: row b at its own position pos[b] <= s0 (continuous batching), else s0 */
  int one_row;                 /* 1: every row in cache row 0 (the caches are [1, H, max_len, K]): the rows are new
                                * positions of one sequence (a prompt's), pos[b] increasing, and row b attends after
                                * rows < b wrote their keys and values, so it sees them (causal prefill) */
} qkv_decode_args;

/* Runs the step with the kernels of decode-kernels.h (AVX2 + FMA where the CPU has them and the sgemm kernel
 * in use is not the portable one). Returns 0 when out of memory (nothing written then). */
int qkv_decode_block(const qkv_decode_args *a);

/* One block's weights and caches within a stack, as in qkv_decode_args. */
typedef struct {
  const float *in_w, *in_b, *out_w, *out_b, *n1_w, *n1_b, *n2_w, *n2_b, *l1_w, *l1_b, *l2_w, *l2_b;
  float *k_cache, *v_cache;
} qkv_decode_layer;

/* One decoding step of a decoder-only stack (GPT) for B rows of one new token each, at position s0 (or, with pos,
 * row b at pos[b], attending to its own positions 0..pos[b]; s0 is then the largest of them):
 *   x = E[ids] + P[s0];   x = block_l(x) for l = 0..layers-1;   logits = LN(x)·Wᵀ  (LN only with final_norm)
 * Every block as qkv_decode_block, with one shape (D, H, F, norm_first, gelu, eps) for all. */
typedef struct {
  int64_t B, D, H, F, layers;
  int64_t max_len, s0;         /* the caches' capacity, positions already filled (s0 < max_len) */
  int64_t emb_rows, vocab;     /* rows of E, rows of W (the logits per row) */
  int norm_first, gelu, final_norm;  /* gelu as in qkv_decode_args: 0 ReLU, 1 erf, 2 tanh */
  float eps, norm_eps;         /* the blocks' LayerNorm ε, the final norm's */
  const int32_t *ids;          /* [B] */
  const float *tok_emb;        /* E [emb_rows, D] */
  const float *pos_emb;        /* P: row s0 (D values) is added; NULL: no positions */
  const qkv_decode_layer *blocks;  /* [layers] */
  const float *norm_w, *norm_b;    /* [D] each, or NULL */
  const float *head;           /* W [vocab, D] */
  float *logits;               /* [B, vocab] */
  const int32_t *pos;          /* [B] or NULL: row b at its own position pos[b] <= s0, else every row at s0 */
  int one_row;                 /* as qkv_decode_args' (with pos): B tokens of one sequence in one call */
} qkv_decode_stack_args;

/* Runs the step. Returns 1; 0 when out of memory; -1 - b when ids[b] is not a row of E. Nothing is written
 * when it fails (the ids are checked before any cache is touched); positions are the caller's to check. */
int qkv_decode_stack(const qkv_decode_stack_args *a);

/* Lets products of several rows in a step run as one product over the rows (register tiles across rows and outputs,
 * the default) or row by row (on = 0: the path before it, for checks and benchmarks); the outputs are the same bit for
 * bit either way. The setting is process-wide. */
void qkv_decode_row_tiles_enable(int on);
int qkv_decode_row_tiles_enabled(void);

#endif
