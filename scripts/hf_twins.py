"""GPT-2 and BERT exactly as Hugging Face's transformers defines them, in plain PyTorch (no transformers package),
reading and writing Hugging Face folders (config.json + model.safetensors) with a hand-written safetensors codec.

Written from transformers' modeling_gpt2.py and modeling_bert.py: the same module and parameter names (so the
state-dict keys are HF's), Conv1D ([in, out] weights, y = x W + b), gelu_new (the tanh form), LayerNorm eps from
the config (GPT-2 1e-5, BERT 1e-12), position ids 0..T-1, token-type ids (default 0), scores scaled by 1/sqrt(d_head),
masks added as finfo.min, GPT2ForSequenceClassification pooling at the last non-pad token, BERT's pooler (tanh
over [CLS]) and masked-LM head (dense -> act -> LayerNorm -> decoder tied to the word embeddings + bias).

Run (from the repo root, /usr/bin/python3 with torch):
  python3 scripts/hf_twins.py logits <hf-dir> --ids '[[1,2,3],[4,5,0]]' [--types '[[0,0,1],[0,1,1]]'] [--mask '[[1,1,1],[1,1,0]]']
      prints {"architecture", "logits"} as JSON, computed in float64 from the folder's weights
  python3 scripts/hf_twins.py random <gpt2|gpt2-cls|bert|bert-cls> <out-dir> [--seed S]
      writes a small HF folder with random weights (config.json, model.safetensors)
"""
import argparse
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------- safetensors (no safetensors package here)

_DT = {'F32': torch.float32, 'F64': torch.float64, 'F16': torch.float16, 'BF16': torch.bfloat16,
       'I64': torch.int64, 'I32': torch.int32, 'I16': torch.int16, 'I8': torch.int8, 'U8': torch.uint8, 'BOOL': torch.bool}
_CODE = {v: k for k, v in _DT.items()}


def read_safetensors(path):
    """name -> tensor, and the metadata dict."""
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n].decode('utf-8'))
    meta = header.pop('__metadata__', {})
    base = 8 + n
    out = {}
    for name, e in header.items():
        b, end = e['data_offsets']
        dt = _DT[e['dtype']]
        raw = bytearray(data[base + b:base + end])
        t = torch.frombuffer(raw, dtype=dt) if len(raw) else torch.empty(0, dtype=dt)
        out[name] = t.reshape(e['shape']).clone()
    return out, meta


def write_safetensors(path, tensors, metadata=None):
    """Sorted by name, header padded with spaces to 8 bytes, as the reference writer."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        raw = t.numpy().tobytes()
        header[name] = {'dtype': _CODE[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)

# ---------------------------------------------------------------- activations (transformers' ACT2FN)


def gelu_new(x):
    """The tanh approximation GPT-2 trained with (transformers' NewGELUActivation)."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


ACT2FN = {'gelu': F.gelu, 'relu': F.relu, 'gelu_new': gelu_new, 'gelu_pytorch_tanh': gelu_new}


class Config(dict):
    """config.json with attribute access and HF's defaults for absent fields."""
    def __getattr__(self, k):
        return self[k]


GPT2_DEFAULTS = dict(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12, n_inner=None,
                     activation_function='gelu_new', resid_pdrop=0.1, embd_pdrop=0.1, attn_pdrop=0.1,
                     layer_norm_epsilon=1e-5, initializer_range=0.02, pad_token_id=None, tie_word_embeddings=True)
BERT_DEFAULTS = dict(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                     intermediate_size=3072, hidden_act='gelu', hidden_dropout_prob=0.1,
                     attention_probs_dropout_prob=0.1, max_position_embeddings=512, type_vocab_size=2,
                     initializer_range=0.02, layer_norm_eps=1e-12, pad_token_id=0, classifier_dropout=None)


def num_labels(cfg):
    return len(cfg['id2label']) if cfg.get('id2label') else cfg.get('num_labels', 2)

# ---------------------------------------------------------------- GPT-2 (modeling_gpt2.py)


class Conv1D(nn.Module):
    """transformers' Conv1D: a linear layer with its weight stored [nx, nf] (in, out)."""
    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf).normal_(std=0.02))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


class GPT2Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_dim, self.num_heads = cfg.n_embd, cfg.n_head
        self.head_dim = self.embed_dim // self.num_heads
        self.c_attn = Conv1D(3 * self.embed_dim, self.embed_dim)
        self.c_proj = Conv1D(self.embed_dim, self.embed_dim)
        self.attn_dropout = nn.Dropout(cfg.attn_pdrop)
        self.resid_dropout = nn.Dropout(cfg.resid_pdrop)

    def _split(self, x):
        return x.view(x.size()[:-1] + (self.num_heads, self.head_dim)).permute(0, 2, 1, 3)

    def forward(self, x, attention_mask):
        query, key, value = self.c_attn(x).split(self.embed_dim, dim=2)
        q, k, v = self._split(query), self._split(key), self._split(value)
        w = torch.matmul(q, k.transpose(-1, -2)) / torch.full([], v.size(-1) ** 0.5, dtype=q.dtype)
        n = q.size(-2)
        causal = torch.tril(torch.ones((n, n), dtype=torch.bool)).view(1, 1, n, n)
        w = torch.where(causal, w, torch.full([], torch.finfo(w.dtype).min, dtype=w.dtype))
        if attention_mask is not None:
            w = w + attention_mask
        w = self.attn_dropout(F.softmax(w, dim=-1))
        a = torch.matmul(w, v).permute(0, 2, 1, 3).contiguous()
        a = a.view(a.size()[:-2] + (self.embed_dim,))
        return self.resid_dropout(self.c_proj(a))


class GPT2MLP(nn.Module):
    def __init__(self, inner, cfg):
        super().__init__()
        self.c_fc = Conv1D(inner, cfg.n_embd)
        self.c_proj = Conv1D(cfg.n_embd, inner)
        self.act = ACT2FN[cfg.activation_function]
        self.dropout = nn.Dropout(cfg.resid_pdrop)

    def forward(self, x):
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


class GPT2Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        inner = cfg.n_inner if cfg.n_inner is not None else 4 * cfg.n_embd
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.attn = GPT2Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.mlp = GPT2MLP(inner, cfg)

    def forward(self, x, attention_mask):
        x = x + self.attn(self.ln_1(x), attention_mask)
        return x + self.mlp(self.ln_2(x))


class GPT2Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.n_positions, cfg.n_embd)
        self.drop = nn.Dropout(cfg.embd_pdrop)
        self.h = nn.ModuleList([GPT2Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)

    def forward(self, input_ids, attention_mask=None):
        T = input_ids.size(-1)
        position_ids = torch.arange(0, T, dtype=torch.long).unsqueeze(0)
        x = self.drop(self.wte(input_ids) + self.wpe(position_ids))
        if attention_mask is not None:  # [B, T] 1 keep / 0 pad -> additive [B, 1, 1, T]
            m = attention_mask[:, None, None, :].to(x.dtype)
            attention_mask = (1.0 - m) * torch.finfo(x.dtype).min
        for block in self.h:
            x = block(x, attention_mask)
        return self.ln_f(x)


class GPT2LMHeadModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.transformer = GPT2Model(cfg)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        if cfg.tie_word_embeddings:
            self.lm_head.weight = self.transformer.wte.weight

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        return self.lm_head(self.transformer(input_ids, attention_mask))


class GPT2ForSequenceClassification(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.transformer = GPT2Model(cfg)
        self.score = nn.Linear(cfg.n_embd, num_labels(cfg), bias=False)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        logits = self.score(self.transformer(input_ids, attention_mask))  # [B, T, L]
        B, T = input_ids.shape
        # The last token that is not padding (transformers >= 4.45: the rightmost non-pad position).
        not_pad = (input_ids != self.config.pad_token_id).int() * torch.arange(T)
        last = not_pad.argmax(-1)
        return logits[torch.arange(B), last]

# ---------------------------------------------------------------- BERT (modeling_bert.py)


class BertEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size, padding_idx=cfg.pad_token_id)
        self.position_embeddings = nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size)
        self.token_type_embeddings = nn.Embedding(cfg.type_vocab_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)

    def forward(self, input_ids, token_type_ids):
        T = input_ids.size(1)
        position_ids = torch.arange(T).unsqueeze(0)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        e = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids) + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(e))


class BertSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.num_attention_heads = cfg.num_attention_heads
        self.attention_head_size = cfg.hidden_size // cfg.num_attention_heads
        self.query = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.key = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.value = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.dropout = nn.Dropout(cfg.attention_probs_dropout_prob)

    def t(self, x):
        return x.view(x.size()[:-1] + (self.num_attention_heads, self.attention_head_size)).permute(0, 2, 1, 3)

    def forward(self, x, attention_mask):
        q, k, v = self.t(self.query(x)), self.t(self.key(x)), self.t(self.value(x))
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.attention_head_size)
        if attention_mask is not None:
            s = s + attention_mask
        p = self.dropout(F.softmax(s, dim=-1))
        c = torch.matmul(p, v).permute(0, 2, 1, 3).contiguous()
        return c.view(c.size()[:-2] + (q.size(1) * q.size(3),))


class BertSelfOutput(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)

    def forward(self, h, x):
        return self.LayerNorm(self.dropout(self.dense(h)) + x)


class BertAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self = BertSelfAttention(cfg)
        self.output = BertSelfOutput(cfg)

    def forward(self, x, attention_mask):
        return self.output(self.self(x, attention_mask), x)


class BertIntermediate(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.intermediate_size)
        self.intermediate_act_fn = ACT2FN[cfg.hidden_act]

    def forward(self, x):
        return self.intermediate_act_fn(self.dense(x))


class BertOutput(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.intermediate_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)

    def forward(self, h, x):
        return self.LayerNorm(self.dropout(self.dense(h)) + x)


class BertLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attention = BertAttention(cfg)
        self.intermediate = BertIntermediate(cfg)
        self.output = BertOutput(cfg)

    def forward(self, x, attention_mask):
        a = self.attention(x, attention_mask)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(cfg) for _ in range(cfg.num_hidden_layers)])

    def forward(self, x, attention_mask):
        for layer in self.layer:
            x = layer(x, attention_mask)
        return x


class BertPooler(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, h):
        return self.activation(self.dense(h[:, 0]))


class BertModel(nn.Module):
    def __init__(self, cfg, add_pooling_layer=True):
        super().__init__()
        self.embeddings = BertEmbeddings(cfg)
        self.encoder = BertEncoder(cfg)
        self.pooler = BertPooler(cfg) if add_pooling_layer else None

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        x = self.embeddings(input_ids, token_type_ids)
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        ext = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        h = self.encoder(x, ext)
        return h, (self.pooler(h) if self.pooler is not None else None)


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.transform_act_fn = ACT2FN[cfg.hidden_act]
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, x):
        return self.LayerNorm(self.transform_act_fn(self.dense(x)))


class BertLMPredictionHead(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.transform = BertPredictionHeadTransform(cfg)
        self.decoder = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        self.bias = nn.Parameter(torch.zeros(cfg.vocab_size))
        self.decoder.bias = self.bias  # one tensor under two names, as HF

    def forward(self, x):
        return self.decoder(self.transform(x))


class BertOnlyMLMHead(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.predictions = BertLMPredictionHead(cfg)

    def forward(self, x):
        return self.predictions(x)


class BertForMaskedLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.bert = BertModel(cfg, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(cfg)
        self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        return self.cls(self.bert(input_ids, attention_mask, token_type_ids)[0])


class BertForSequenceClassification(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.bert = BertModel(cfg)
        drop = cfg.classifier_dropout if cfg.classifier_dropout is not None else cfg.hidden_dropout_prob
        self.dropout = nn.Dropout(drop)
        self.classifier = nn.Linear(cfg.hidden_size, num_labels(cfg))

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        return self.classifier(self.dropout(self.bert(input_ids, attention_mask, token_type_ids)[1]))

# ---------------------------------------------------------------- folders


ARCHITECTURES = {'GPT2LMHeadModel': (GPT2LMHeadModel, GPT2_DEFAULTS), 'GPT2ForSequenceClassification': (GPT2ForSequenceClassification, GPT2_DEFAULTS),
                 'BertForMaskedLM': (BertForMaskedLM, BERT_DEFAULTS), 'BertForSequenceClassification': (BertForSequenceClassification, BERT_DEFAULTS)}
# Keys transformers never loads into these models (buffers; the tied decoder; other heads).
IGNORED = ('.attn.bias', '.attn.masked_bias', 'embeddings.position_ids', 'cls.seq_relationship.')


def load_folder(d, dtype=torch.float64):
    """An HF folder as (model, config): HF's class for config.json's architecture, holding model.safetensors."""
    with open(os.path.join(d, 'config.json')) as f:
        raw = json.load(f)
    arch = raw['architectures'][0]
    cls, defaults = ARCHITECTURES[arch]
    cfg = Config({**defaults, **raw})
    model = cls(cfg)
    state, _ = read_safetensors(os.path.join(d, 'model.safetensors'))
    own = model.state_dict()
    # A file saved from the bare base model lacks the prefix (transformers adds it back: base_model_prefix).
    prefix = 'transformer.' if arch.startswith('GPT2') else 'bert.'
    if not any(k.startswith(prefix) for k in state):
        state = {(k if k in own else prefix + k): v for k, v in state.items()}
    state = {k: v for k, v in state.items() if not any(s in k for s in IGNORED)}
    if arch == 'BertForMaskedLM':  # built without a pooler; transformers ignores one in the file (_keys_to_ignore_on_load_unexpected)
        state = {k: v for k, v in state.items() if '.pooler.' not in k}
    tied = {'lm_head.weight', 'cls.predictions.decoder.weight', 'cls.predictions.decoder.bias'}
    missing = [k for k in own if k not in state and k not in tied]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        raise SystemExit(f'{d}/model.safetensors: missing {missing}, unexpected {unexpected}')
    model.load_state_dict(state, strict=False)
    return model.to(dtype).eval(), cfg


def save_folder(model, raw_config, d):
    """config.json and model.safetensors as save_pretrained writes them: tied weights once, metadata format pt."""
    os.makedirs(d, exist_ok=True)
    state = model.state_dict()
    for k in ('lm_head.weight', 'cls.predictions.decoder.weight', 'cls.predictions.decoder.bias'):
        if k in state and (k != 'lm_head.weight' or raw_config.get('tie_word_embeddings', True)):
            del state[k]
    state = {k: v.to(torch.float32) for k, v in state.items()}
    write_safetensors(os.path.join(d, 'model.safetensors'), state, {'format': 'pt'})
    with open(os.path.join(d, 'config.json'), 'w') as f:
        json.dump(raw_config, f, indent=2)
        f.write('\n')


def small_config(kind):
    if kind.startswith('gpt2'):
        c = {'architectures': ['GPT2ForSequenceClassification' if kind == 'gpt2-cls' else 'GPT2LMHeadModel'], 'model_type': 'gpt2',
             'vocab_size': 23, 'n_positions': 12, 'n_embd': 16, 'n_layer': 2, 'n_head': 4, 'n_inner': None,
             'activation_function': 'gelu_new', 'layer_norm_epsilon': 1e-5, 'resid_pdrop': 0.1, 'embd_pdrop': 0.1, 'attn_pdrop': 0.1}
        if kind == 'gpt2-cls':
            c.update(id2label={'0': 'ham', '1': 'spam', '2': 'eggs'}, label2id={'ham': 0, 'spam': 1, 'eggs': 2}, pad_token_id=0)
        return c
    c = {'architectures': ['BertForSequenceClassification' if kind == 'bert-cls' else 'BertForMaskedLM'], 'model_type': 'bert',
         'vocab_size': 29, 'hidden_size': 16, 'num_hidden_layers': 2, 'num_attention_heads': 4, 'intermediate_size': 40,
         'hidden_act': 'gelu', 'max_position_embeddings': 14, 'type_vocab_size': 2, 'layer_norm_eps': 1e-12,
         'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1, 'pad_token_id': 0}
    if kind == 'bert-cls':
        c.update(id2label={'0': 'ham', '1': 'spam'}, label2id={'ham': 0, 'spam': 1})
    return c


def randomize(model, gen):
    """Non-trivial values everywhere (norms near 1, biases non-zero), drawn in float32."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if 'LayerNorm' in name or 'ln_' in name:
                p.copy_((1 if name.endswith('weight') else 0) + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))


def random_folder(kind, d, seed):
    raw = small_config(kind)
    cls, defaults = ARCHITECTURES[raw['architectures'][0]]
    model = cls(Config({**defaults, **raw}))
    randomize(model, torch.Generator().manual_seed(seed))
    save_folder(model, raw, d)


def logits(d, ids, types=None, mask=None):
    model, _ = load_folder(d)
    with torch.no_grad():
        out = model(torch.tensor(ids), None if mask is None else torch.tensor(mask), None if types is None else torch.tensor(types))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    lg = sub.add_parser('logits')
    lg.add_argument('dir')
    lg.add_argument('--ids', required=True)
    lg.add_argument('--types')
    lg.add_argument('--mask')
    rd = sub.add_parser('random')
    rd.add_argument('kind', choices=['gpt2', 'gpt2-cls', 'bert', 'bert-cls'])
    rd.add_argument('dir')
    rd.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.cmd == 'logits':
        arch = json.load(open(os.path.join(a.dir, 'config.json')))['architectures'][0]
        out = logits(a.dir, json.loads(a.ids), a.types and json.loads(a.types), a.mask and json.loads(a.mask))
        json.dump({'architecture': arch, 'logits': out.tolist()}, sys.stdout)
        print()
    else:
        random_folder(a.kind, a.dir, a.seed)


if __name__ == '__main__':
    main()
