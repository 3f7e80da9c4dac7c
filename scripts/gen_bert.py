"""Golden fixtures for src/models/bert.ts and src/models/gpt-classifier.ts, from an independent PyTorch BERT and GPT-2.

Run: /usr/bin/python3 scripts/gen_bert.py   (writes test/fixtures/golden/{bert,gpt2}_*.safetensors; torch 1.13)

The models here are written from the BERT paper (Devlin et al. 2019) and Hugging Face's published modelling code
(BertModel, BertForMaskedLM, BertForSequenceClassification, GPT2Model, GPT2ForSequenceClassification), with HF's
module layout: separate query/key/value projections, an additive attention mask, BertSelfOutput/BertOutput's
LN(dense(x) + input), GPT-2's Conv1D weights [in, out], gelu_new. Nothing from qkv is imported; the parameters are
written under qkv's names (q, k, v stacked into in_proj_weight; Conv1D weights transposed) so that the TypeScript
test can load them directly. One difference from HF is deliberate: HF's word embedding has padding_idx (the pad
row gets no gradient from the lookup); qkv's Embedding, like the paper, has none, and so neither has this twin.

Each fixture holds the parameters (qkv's names), @in.* (ids, token types, float 0/1 key padding mask, labels),
@out (the head's logits), extra outputs (@hidden, @pooled, @attn.N), @loss and @grad.<qkv name> for every
parameter, with a JSON `case` in the metadata. Parameters are drawn in float32 and the reference is computed in
float64 from those exact values.
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_golden import OUT_DIR, save_safetensors  # noqa: E402  (the safetensors writer only)

V, D, H, L, FF, P, TYPES = 23, 16, 4, 2, 32, 10, 2
B, T = 3, 7
LENS = [7, 5, 3]
PAD, CLS, SEP, MASK = 0, 1, 2, 3
EPS_BERT, EPS_GPT2 = 1e-12, 1e-5
LABELS = ['neg', 'neutral', 'pos']


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def gelu_new(x):
    # HF's NewGELUActivation (the GPT-2 / Google BERT tanh approximation).
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


# ---------------------------------------------------------------- BERT, HF's layout
class BertEmbeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.word_embeddings = nn.Embedding(V, D)
        self.position_embeddings = nn.Embedding(P, D)
        self.token_type_embeddings = nn.Embedding(TYPES, D)
        self.LayerNorm = nn.LayerNorm(D, eps=EPS_BERT)

    def forward(self, ids, types):
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        return self.LayerNorm(self.word_embeddings(ids) + self.position_embeddings(pos) + self.token_type_embeddings(types))


class BertSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.query, self.key, self.value = nn.Linear(D, D), nn.Linear(D, D), nn.Linear(D, D)

    def heads(self, x):  # [B, T, D] -> [B, H, T, K]
        return x.view(x.shape[0], x.shape[1], H, D // H).permute(0, 2, 1, 3)

    def forward(self, x, additive_mask):
        q, k, v = self.heads(self.query(x)), self.heads(self.key(x)), self.heads(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(D // H) + additive_mask  # [B, H, T, T]
        probs = scores.softmax(-1)
        ctx = (probs @ v).permute(0, 2, 1, 3).reshape(x.shape)
        return ctx, probs


class BertLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention_self = BertSelfAttention()
        self.attention_output_dense = nn.Linear(D, D)
        self.attention_output_LayerNorm = nn.LayerNorm(D, eps=EPS_BERT)
        self.intermediate_dense = nn.Linear(D, FF)
        self.output_dense = nn.Linear(FF, D)
        self.output_LayerNorm = nn.LayerNorm(D, eps=EPS_BERT)

    def forward(self, x, additive_mask):
        ctx, probs = self.attention_self(x, additive_mask)
        a = self.attention_output_LayerNorm(self.attention_output_dense(ctx) + x)      # BertSelfOutput
        out = self.output_LayerNorm(self.output_dense(gelu(self.intermediate_dense(a))) + a)  # BertIntermediate, BertOutput
        return out, probs


class Bert(nn.Module):
    def __init__(self):
        super().__init__()
        self.embeddings = BertEmbeddings()
        self.layer = nn.ModuleList([BertLayer() for _ in range(L)])
        self.pooler_dense = nn.Linear(D, D)

    def forward(self, ids, types, attention_mask):
        # HF's get_extended_attention_mask: (1 - mask) * finfo.min, broadcast over heads and queries.
        additive = (1.0 - attention_mask[:, None, None, :].double()) * torch.finfo(torch.float64).min
        x = self.embeddings(ids, types)
        probs = []
        for layer in self.layer:
            x, p = layer(x, additive)
            probs.append(p)
        pooled = torch.tanh(self.pooler_dense(x[:, 0]))
        return x, pooled, probs


class BertMLMHead(nn.Module):
    def __init__(self, word_embeddings):
        super().__init__()
        self.transform_dense = nn.Linear(D, D)
        self.transform_LayerNorm = nn.LayerNorm(D, eps=EPS_BERT)
        self.decoder_weight = word_embeddings  # tied
        self.bias = nn.Parameter(torch.zeros(V))

    def forward(self, h):
        return F.linear(self.transform_LayerNorm(gelu(self.transform_dense(h))), self.decoder_weight) + self.bias


def bert_names(prefix=''):
    """qkv name -> (HF-layout twin name, or a list of names stacked along dim 0)."""
    m = {
        'bert.embeddings.word_embeddings.weight': 'bert.embeddings.word_embeddings.weight',
        'bert.embeddings.position_embeddings.weight': 'bert.embeddings.position_embeddings.weight',
        'bert.embeddings.token_type_embeddings.weight': 'bert.embeddings.token_type_embeddings.weight',
        'bert.embeddings.norm.weight': 'bert.embeddings.LayerNorm.weight',
        'bert.embeddings.norm.bias': 'bert.embeddings.LayerNorm.bias',
        'bert.pooler.dense.weight': 'bert.pooler_dense.weight',
        'bert.pooler.dense.bias': 'bert.pooler_dense.bias',
    }
    for i in range(L):
        q, t = f'bert.encoder.layers.{i}.', f'bert.layer.{i}.'
        for w in ('weight', 'bias'):
            m[q + f'self_attn.in_proj_{w}'] = [t + f'attention_self.{n}.{w}' for n in ('query', 'key', 'value')]
            m[q + f'self_attn.out_proj.{w}'] = t + f'attention_output_dense.{w}'
            m[q + f'linear1.{w}'] = t + f'intermediate_dense.{w}'
            m[q + f'linear2.{w}'] = t + f'output_dense.{w}'
            m[q + f'norm1.{w}'] = t + f'attention_output_LayerNorm.{w}'
            m[q + f'norm2.{w}'] = t + f'output_LayerNorm.{w}'
    return m


def randomize(module, gen):
    """Non-trivial values everywhere (HF's init leaves biases at 0 and norms at 1), rounded to float32."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if 'LayerNorm' in name or name.split('.')[-2].startswith('ln_'):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen) if name.endswith('weight') else 0.1 * torch.randn(p.shape, generator=gen))
            elif p.ndim == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(D))
            p.copy_(p.to(torch.float32).to(p.dtype))


def gather(model, names, transpose=()):
    """Parameters and gradients under qkv's names."""
    got = dict(model.named_parameters())
    params, grads = {}, {}
    for qkv, twin in names.items():
        parts = twin if isinstance(twin, list) else [twin]
        t = lambda n, x: x.t() if n in transpose else x  # noqa: E731
        params[qkv] = torch.cat([t(n, got[n].detach()) for n in parts], 0)
        grads['@grad.' + qkv] = torch.cat([t(n, got[n].grad) for n in parts], 0)
    return params, grads


def inputs(gen, vocab):
    ids = torch.randint(MASK + 1, vocab, (B, T), generator=gen)
    kpm = torch.zeros(B, T)
    for b, n in enumerate(LENS):
        ids[b, n:] = PAD
        kpm[b, n:] = 1
    return ids, kpm


def bert_inputs(gen):
    ids, kpm = inputs(gen, V)
    ids[:, 0] = CLS
    types = torch.zeros(B, T, dtype=torch.long)
    for b, n in enumerate(LENS):
        ids[b, n - 1] = SEP
        types[b, n // 2:n] = 1  # sentence B: the second half of each row's real tokens
    return ids, types, kpm


def write(path, case, params, ins, out, extra, loss, grads):
    tensors = dict(params)
    for k, x in ins.items():
        tensors['@in.' + k] = x
    tensors['@out'] = out
    tensors.update(extra)
    tensors['@loss'] = loss.reshape(1)
    tensors.update(grads)
    save_safetensors(os.path.join(OUT_DIR, path), tensors, {'case': json.dumps(case)})
    print(f'{path}: {len(tensors)} tensors, loss {loss.item():.6f}')


def bert_case():
    return {'vocab': V, 'dModel': D, 'heads': H, 'layers': L, 'dFF': FF, 'maxPositions': P, 'typeVocab': TYPES, 'eps': EPS_BERT,
            'pad': PAD, 'lens': LENS}


def bert_mlm():
    gen = torch.Generator().manual_seed(1500)
    model = nn.Module()
    model.bert = Bert()
    model.cls = BertMLMHead(model.bert.embeddings.word_embeddings.weight)
    model.double()
    model.cls.decoder_weight = model.bert.embeddings.word_embeddings.weight  # .double() re-creates parameters: tie again
    randomize(model, gen)
    ids, types, kpm = bert_inputs(gen)
    # Masked-LM labels: a few real positions (not [CLS]/[SEP]) predict their original token, -100 elsewhere.
    labels = torch.full((B, T), -100, dtype=torch.long)
    for b, n in enumerate(LENS):
        for t in range(1, n - 1):
            if torch.rand(1, generator=gen).item() < 0.5:
                labels[b, t] = ids[b, t]
                ids[b, t] = MASK
    hidden, pooled, probs = model.bert(ids, types, 1 - kpm)
    logits = model.cls(hidden)
    # The masked-LM loss, plus Σ pooled ⊙ R so that the pooler (unused by the MLM head) gets gradients too.
    R = torch.randn(B, D, generator=gen, dtype=torch.float64).to(torch.float32).to(torch.float64)
    loss = F.cross_entropy(logits.reshape(-1, V), labels.reshape(-1), ignore_index=-100) + (pooled * R).sum()
    loss.backward()
    names = bert_names()
    names['cls.transform.dense.weight'] = 'cls.transform_dense.weight'
    names['cls.transform.dense.bias'] = 'cls.transform_dense.bias'
    names['cls.transform.norm.weight'] = 'cls.transform_LayerNorm.weight'
    names['cls.transform.norm.bias'] = 'cls.transform_LayerNorm.bias'
    names['cls.bias'] = 'cls.bias'
    params, grads = gather(model, names)
    params['cls.decoder.weight'] = params['bert.embeddings.word_embeddings.weight']  # tied: in the state dict under both names
    extra = {'@hidden': hidden, '@pooled': pooled, '@R': R}
    extra.update({f'@attn.{i}': p for i, p in enumerate(probs)})
    write('bert_mlm.safetensors', {**bert_case(), 'kind': 'bert'}, params,
          {'ids': ids, 'token_types': types, 'key_padding_mask': kpm, 'labels': labels}, logits, extra, loss, grads)


def bert_classifier():
    gen = torch.Generator().manual_seed(1501)
    model = nn.Module()
    model.bert = Bert()
    model.classifier = nn.Linear(D, len(LABELS))
    model.double()
    randomize(model, gen)
    ids, types, kpm = bert_inputs(gen)
    labels = torch.tensor([2, 0, 1])
    _, pooled, _ = model.bert(ids, types, 1 - kpm)
    logits = model.classifier(pooled)  # dropout is the identity here
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    names = bert_names()
    names['classifier.weight'] = 'classifier.weight'
    names['classifier.bias'] = 'classifier.bias'
    params, grads = gather(model, names)
    write('bert_classifier.safetensors', {**bert_case(), 'kind': 'bert-classifier', 'labels': LABELS}, params,
          {'ids': ids, 'token_types': types, 'key_padding_mask': kpm, 'labels': labels}, logits, {'@pooled': pooled}, loss, grads)


# ---------------------------------------------------------------- GPT-2, HF's layout
class Conv1D(nn.Module):
    """GPT-2's Conv1D: y = x·W + b with W [in, out] (the transpose of nn.Linear's)."""

    def __init__(self, nx, nf):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        return x @ self.weight + self.bias


class GPT2Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(D, eps=EPS_GPT2)
        self.c_attn = Conv1D(D, 3 * D)
        self.attn_c_proj = Conv1D(D, D)
        self.ln_2 = nn.LayerNorm(D, eps=EPS_GPT2)
        self.c_fc = Conv1D(D, FF)
        self.mlp_c_proj = Conv1D(FF, D)

    def forward(self, x, additive):
        q, k, v = self.c_attn(self.ln_1(x)).split(D, dim=2)
        sh = lambda t: t.view(x.shape[0], x.shape[1], H, D // H).permute(0, 2, 1, 3)  # noqa: E731
        q, k, v = sh(q), sh(k), sh(v)
        n = x.shape[1]
        causal = torch.tril(torch.ones(n, n, dtype=torch.bool))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(D // H)
        scores = torch.where(causal, scores, torch.tensor(torch.finfo(scores.dtype).min, dtype=scores.dtype)) + additive
        a = (scores.softmax(-1) @ v).permute(0, 2, 1, 3).reshape(x.shape)
        x = x + self.attn_c_proj(a)
        return x + self.mlp_c_proj(gelu_new(self.c_fc(self.ln_2(x))))


class GPT2(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(V, D)
        self.wpe = nn.Embedding(P, D)
        self.h = nn.ModuleList([GPT2Block() for _ in range(L)])
        self.ln_f = nn.LayerNorm(D, eps=EPS_GPT2)

    def forward(self, ids, attention_mask):
        additive = (1.0 - attention_mask[:, None, None, :].double()) * torch.finfo(torch.float64).min
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1]))[None]
        for block in self.h:
            x = block(x, additive)
        return self.ln_f(x)


def gpt2_names(prefix):
    m = {prefix + 'wte.weight': 'transformer.wte.weight', prefix + 'wpe.weight': 'transformer.wpe.weight',
         prefix + 'norm.weight': 'transformer.ln_f.weight', prefix + 'norm.bias': 'transformer.ln_f.bias'}
    transpose = set()
    for i in range(L):
        q, t = f'{prefix}layers.{i}.', f'transformer.h.{i}.'
        for ours, theirs in (('self_attn.in_proj_weight', 'c_attn.weight'), ('self_attn.in_proj_bias', 'c_attn.bias'),
                             ('self_attn.out_proj.weight', 'attn_c_proj.weight'), ('self_attn.out_proj.bias', 'attn_c_proj.bias'),
                             ('linear1.weight', 'c_fc.weight'), ('linear1.bias', 'c_fc.bias'),
                             ('linear2.weight', 'mlp_c_proj.weight'), ('linear2.bias', 'mlp_c_proj.bias')):
            m[q + ours] = t + theirs
            if theirs.endswith('.weight'):
                transpose.add(t + theirs)  # Conv1D [in, out] -> Linear [out, in]
        for ours, theirs in (('norm1', 'ln_1'), ('norm2', 'ln_2')):
            m[q + ours + '.weight'] = t + theirs + '.weight'
            m[q + ours + '.bias'] = t + theirs + '.bias'
    return m, transpose


def gpt2_case():
    return {'vocab': V, 'dModel': D, 'heads': H, 'layers': L, 'dFF': FF, 'context': P, 'activation': 'gelu_new', 'eps': EPS_GPT2,
            'pad': PAD, 'lens': LENS}


def gpt2_lm():
    gen = torch.Generator().manual_seed(1502)
    model = nn.Module()
    model.transformer = GPT2()
    model.double()
    randomize(model, gen)
    ids, kpm = inputs(gen, V)
    h = model.transformer(ids, 1 - kpm)
    logits = F.linear(h, model.transformer.wte.weight)  # lm_head tied to wte
    targets = torch.roll(ids, -1, 1)
    targets[:, -1] = PAD
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=PAD)
    loss.backward()
    names, transpose = gpt2_names('')
    params, grads = gather(model, names, transpose)
    params['lm_head.weight'] = params['wte.weight']  # tied
    write('gpt2_gelu_new.safetensors', {**gpt2_case(), 'kind': 'gpt'}, params,
          {'ids': ids, 'key_padding_mask': kpm, 'targets': targets}, logits, {}, loss, grads)


def gpt2_classifier():
    gen = torch.Generator().manual_seed(1503)
    model = nn.Module()
    model.transformer = GPT2()
    model.score = nn.Linear(D, len(LABELS), bias=False)
    model.double()
    randomize(model, gen)
    ids, kpm = inputs(gen, V)
    h = model.transformer(ids, 1 - kpm)
    scores = model.score(h)  # [B, T, L]
    # GPT2ForSequenceClassification: the position before the first pad (modulo T: no pad → the last position).
    last = (torch.eq(ids, PAD).int().argmax(-1) - 1) % ids.shape[-1]
    logits = scores[torch.arange(B), last]
    labels = torch.tensor([1, 2, 0])
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    names, transpose = gpt2_names('transformer.')
    names['score.weight'] = 'score.weight'
    params, grads = gather(model, names, transpose)
    params['transformer.lm_head.weight'] = params['transformer.wte.weight']  # the body's tied head
    write('gpt2_classifier.safetensors', {**gpt2_case(), 'kind': 'gpt-classifier', 'labels': LABELS, 'last': last.tolist()}, params,
          {'ids': ids, 'key_padding_mask': kpm, 'labels': labels}, logits, {}, loss, grads)


if __name__ == '__main__':
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    bert_mlm()
    bert_classifier()
    gpt2_lm()
    gpt2_classifier()
