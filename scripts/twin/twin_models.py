"""The PyTorch twins of qkv's models: src/models/transformer.ts (the paper) and src/models/gpt.ts.

Built from torch.nn.Transformer / nn.TransformerEncoderLayer (batch_first) with qkv's choices:
  Seq2SeqTwin  x = Dropout(Embed(ids)*sqrt(D) + PE_sinusoidal), post-norm layers, no final norms
               (qkv's finalNorm defaults to normFirst), generator Linear(D, V) with bias, shared
               src/tgt/generator weight when the preset shares embeddings, Xavier-uniform on every matrix.
  GPTTwin      x = Dropout(wte(ids) + wpe(positions)), pre-norm encoder layers under a causal mask,
               GELU, final LayerNorm, lm_head tied to wte; GPT-2 init N(0, 0.02), residual projections
               scaled by 1/sqrt(2 * layers), biases 0, LayerNorms 1/0.
Shapes: B batch, S source length, T target length, D d_model, V vocabulary.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn


def sinusoids(max_len, d):
    """PE(pos, 2i) = sin(pos / 10000^(2i/D)), PE(pos, 2i+1) = cos(...), computed in float64 (as qkv)."""
    pos = torch.arange(max_len, dtype=torch.float64)[:, None]
    i = torch.arange(0, d, 2, dtype=torch.float64)
    angle = pos / torch.pow(10000.0, i / d)
    pe = torch.zeros(max_len, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle)[:, : d // 2]
    return pe.float()


def causal_mask(t, device=None):
    """[T, T] bool, True above the diagonal: query t may not see keys after t."""
    return torch.triu(torch.ones(t, t, dtype=torch.bool, device=device), diagonal=1)


def check(cfg, key, allowed):
    if cfg.get(key) not in allowed:
        raise ValueError(f"twin: model.{key} is {cfg.get(key)!r}, expected one of {allowed}")


def set_attention_dropout(model, m):
    """torch's layers drop attention weights with their single `dropout`; qkv's attentionDropout (default 0, the paper) sets it."""
    for mha in model.modules():
        if isinstance(mha, nn.MultiheadAttention):
            mha.dropout = float(m.get("attentionDropout", 0.0))


class Seq2SeqTwin(nn.Module):
    """The encoder-decoder Transformer of src/models/transformer.ts on torch.nn.Transformer."""

    def __init__(self, m):
        super().__init__()
        check(m, "positional", ["sinusoidal"])
        check(m, "activation", ["relu", "gelu"])
        D, H, F, p, eps = m["dModel"], m["heads"], m["dFF"], m["dropout"], m["eps"]
        self.d_model = D
        self.src_embed = nn.Embedding(m["srcVocab"], D)
        self.tgt_embed = self.src_embed if m["shareEmbeddings"] else nn.Embedding(m["tgtVocab"], D)
        self.register_buffer("pe", sinusoids(m["maxLen"], D), persistent=False)
        self.dropout = nn.Dropout(p)
        layer = dict(d_model=D, nhead=H, dim_feedforward=F, dropout=p, activation=m["activation"],
                     layer_norm_eps=eps, batch_first=True, norm_first=m["normFirst"])
        enc_norm = nn.LayerNorm(D, eps=eps) if m["finalNorm"] else None
        dec_norm = nn.LayerNorm(D, eps=eps) if m["finalNorm"] else None
        encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(**layer), m["encoderLayers"], norm=enc_norm,
                                        enable_nested_tensor=False)
        decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(**layer), m["decoderLayers"], norm=dec_norm)
        self.transformer = nn.Transformer(d_model=D, nhead=H, custom_encoder=encoder, custom_decoder=decoder,
                                          batch_first=True)
        self.generator = nn.Linear(D, m["tgtVocab"])
        set_attention_dropout(self, m)
        if m["shareEmbeddings"]:
            self.generator.weight = self.src_embed.weight
        # Xavier-uniform for every matrix (embeddings and generator too), as qkv's Transformer does.
        for w in self.parameters():
            if w.dim() > 1:
                nn.init.xavier_uniform_(w)

    def embed(self, table, ids):
        """x = Dropout(Embed(ids)*sqrt(D) + PE): ids [B, L] -> [B, L, D]."""
        return self.dropout(table(ids) * math.sqrt(self.d_model) + self.pe[: ids.size(1)])

    def encode(self, src, src_pad):
        """src [B, S], src_pad [B, S] bool (True = padding) -> memory [B, S, D]."""
        return self.transformer.encoder(self.embed(self.src_embed, src), src_key_padding_mask=src_pad)

    def decode(self, tgt, memory, src_pad, tgt_pad=None, last_only=False):
        """tgt [B, T] (starting with <s>) -> logits [B, T, V] (last_only: [B, 1, V]), causal over the target."""
        y = self.embed(self.tgt_embed, tgt)
        h = self.transformer.decoder(y, memory, tgt_mask=causal_mask(tgt.size(1), tgt.device),
                                     tgt_key_padding_mask=tgt_pad, memory_key_padding_mask=src_pad)
        return self.generator(h[:, -1:] if last_only else h)

    def forward(self, src, src_pad, tgt, tgt_pad):
        return self.decode(tgt, self.encode(src, src_pad), src_pad, tgt_pad)

    def start_cache(self, memory, src_pad):
        """The decoding state of decode_step: each layer's cross-attention keys/values of memory [B, S, D]
        (computed once), empty self-attention keys/values, and the source padding mask."""
        layers = self.transformer.decoder.layers
        mem = [(heads(project(l.multihead_attn, memory, 1), l.multihead_attn.num_heads),
                heads(project(l.multihead_attn, memory, 2), l.multihead_attn.num_heads)) for l in layers]
        return {"self": [None] * len(layers), "mem": mem, "pad": src_pad, "t": 0}

    def decode_step(self, cache, new_ids):
        """Incremental decoding (eval mode, the KV cache): new_ids [B] at position cache["t"] -> logits [B, V].
        Reorder a cache after a beam step with reorder_cache."""
        t = cache["t"]
        x = self.tgt_embed(new_ids[:, None]) * math.sqrt(self.d_model) + self.pe[t: t + 1]  # [B, 1, D]
        for i, layer in enumerate(self.transformer.decoder.layers):
            x = decoder_layer_step(layer, x, cache, i)
        cache["t"] = t + 1
        if self.transformer.decoder.norm is not None:
            x = self.transformer.decoder.norm(x)
        return self.generator(x[:, 0])


def reorder_cache(cache, parents):
    """Rows follow their parent beams: the self-attention keys/values move, memory rows of one source are alike."""
    idx = torch.tensor(parents)
    cache["self"] = [(k[idx], v[idx]) for k, v in cache["self"]]


def project(attn, x, which):
    """Rows [which*D, (which+1)*D) of nn.MultiheadAttention's packed in-projection: 0 = Q, 1 = K, 2 = V."""
    D = attn.embed_dim
    return F.linear(x, attn.in_proj_weight[which * D: (which + 1) * D], attn.in_proj_bias[which * D: (which + 1) * D])


def heads(x, H):
    """[B, L, D] -> [B, H, L, D/H]."""
    B, L, D = x.shape
    return x.view(B, L, H, D // H).transpose(1, 2)


def attend(attn, q, k, v, key_pad=None):
    """softmax(q·kᵀ/√d_k [+ padding mask])·v, heads joined, then out_proj: q [B, H, 1, K] -> [B, 1, D]."""
    s = q @ k.transpose(-1, -2) / math.sqrt(q.size(-1))  # [B, H, 1, S]
    if key_pad is not None:
        s = s.masked_fill(key_pad[:, None, None, :], -math.inf)
    o = (s.softmax(-1) @ v).transpose(1, 2).reshape(q.size(0), 1, -1)  # [B, 1, D]
    return attn.out_proj(o)


def decoder_layer_step(layer, x, cache, i):
    """nn.TransformerDecoderLayer.forward (eval mode) for one new position x [B, 1, D], with cached keys/values."""
    H = layer.self_attn.num_heads

    def self_attn(h):
        k, v = heads(project(layer.self_attn, h, 1), H), heads(project(layer.self_attn, h, 2), H)
        if cache["self"][i] is not None:
            k, v = torch.cat([cache["self"][i][0], k], 2), torch.cat([cache["self"][i][1], v], 2)
        cache["self"][i] = (k, v)
        return attend(layer.self_attn, heads(project(layer.self_attn, h, 0), H), k, v)

    def cross_attn(h):
        k, v = cache["mem"][i]
        return attend(layer.multihead_attn, heads(project(layer.multihead_attn, h, 0), H), k, v, cache["pad"])

    ff = lambda h: layer.linear2(layer.activation(layer.linear1(h)))
    if layer.norm_first:
        x = x + self_attn(layer.norm1(x))
        x = x + cross_attn(layer.norm2(x))
        return x + ff(layer.norm3(x))
    x = layer.norm1(x + self_attn(x))
    x = layer.norm2(x + cross_attn(x))
    return layer.norm3(x + ff(x))


class GPTTwin(nn.Module):
    """The decoder-only GPT of src/models/gpt.ts: blocks are nn.TransformerEncoderLayer under a causal mask."""

    def __init__(self, m):
        super().__init__()
        check(m, "activation", ["relu", "gelu"])
        D, p, eps = m["dModel"], m["dropout"], m["eps"]
        self.wte = nn.Embedding(m["vocab"], D)
        self.wpe = nn.Embedding(m["context"], D)
        self.drop = nn.Dropout(p)
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(D, m["heads"], m["dFF"], p, activation=m["activation"], layer_norm_eps=eps,
                                       batch_first=True, norm_first=m["normFirst"])
            for _ in range(m["layers"])])
        self.norm = nn.LayerNorm(D, eps=eps) if m["finalNorm"] else None
        self.lm_head = nn.Linear(D, m["vocab"], bias=False)
        set_attention_dropout(self, m)
        if m["tieEmbeddings"]:
            self.lm_head.weight = self.wte.weight
        residual = 1 / math.sqrt(2 * m["layers"])
        with torch.no_grad():
            for name, w in self.named_parameters():
                if "norm" in name:
                    continue
                if w.dim() == 1:
                    w.zero_()
                    continue
                is_residual = name.endswith("out_proj.weight") or name.endswith("linear2.weight")
                w.normal_(0.0, 0.02 * (residual if is_residual else 1.0))

    def forward(self, ids):
        """ids [B, T] -> logits [B, T, V]."""
        T = ids.size(1)
        x = self.drop(self.wte(ids) + self.wpe(torch.arange(T, device=ids.device)))
        mask = causal_mask(T, ids.device)
        for layer in self.layers:
            x = layer(x, src_mask=mask)
        if self.norm is not None:
            x = self.norm(x)
        return self.lm_head(x)


def build_model(m):
    if m["kind"] == "transformer":
        return Seq2SeqTwin(m)
    if m["kind"] == "gpt":
        return GPTTwin(m)
    raise ValueError(f"twin: model.kind is {m['kind']!r}, expected 'transformer' or 'gpt'")
