"""Golden fixtures for src/nn and src/models: PyTorch computes attention, Transformer layers and a
full encoder-decoder, and records outputs, per-head attention weights and gradients.

Run: /usr/bin/python3 scripts/gen_golden.py   (writes test/fixtures/golden/*.safetensors; torch 1.13)

Each fixture holds
  <name>               the parameters, under qkv's state-dict names (torch's, without `transformer.`)
  @in.<x>              inputs (float inputs also get gradients; ids are int32, masks float 0/1)
  @out                 the output ([B, T, D] or logits [B, T, V])
  @attn.<module>       per-head attention weights [B, H, T, S] of every attention module
  @R, @loss            the loss: sum(out * R) for modules, label-smoothed cross-entropy for models
  @grad.<name>         d loss / d parameter;  @grad_in.<x>  d loss / d input
and a JSON `case` in the metadata.

Parameters and inputs are drawn in float32, then the reference is computed in float64 from
those exact values, so the fixtures hold the true answer rather than one float32 rounding of it.
"""
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'golden')
D, H, FF, B, S, T, V = 16, 4, 32, 2, 5, 4, 11
SRC_LENS, TGT_LENS = [5, 3], [4, 2]
PAD = 0


def save_safetensors(path, tensors, metadata):
    """A tiny safetensors writer: u64 header length, JSON header, packed little-endian data."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype in (torch.float32, torch.float64):
            t, code = t.to(torch.float32), 'F32'
        else:
            t, code = t.to(torch.int32), 'I32'
        data = t.numpy().tobytes()  # little-endian on every machine torch runs on here
        header[name] = {'dtype': code, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header['__metadata__'] = metadata
    raw = json.dumps(header, separators=(',', ':')).encode('utf-8')
    raw += b' ' * ((8 - len(raw) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def randomize(module, gen):
    """Non-trivial values everywhere: torch's init leaves biases at 0 and norms at 1."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if 'norm' in name and name.endswith('weight'):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))
            elif name.endswith('bias'):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * (1 / math.sqrt(p.shape[-1])))
            # Round to float32 so TS (float32) and the float64 reference start from equal values.
            p.copy_(p.to(torch.float32).to(p.dtype))


def record_attention(module, store):
    """Makes every MultiheadAttention inside `module` also compute its per-head weights."""
    for name, m in module.named_modules():
        if isinstance(m, nn.MultiheadAttention):
            orig = m.forward

            def fwd(*args, _orig=orig, _name=name, **kw):
                kw['need_weights'] = True
                kw['average_attn_weights'] = False
                out, w = _orig(*args, **kw)
                store['@attn.' + _name] = w
                return out, w
            m.forward = fwd


def padding(lens, n):
    return torch.tensor([[j >= l for j in range(n)] for l in lens])


def causal(n):
    return torch.triu(torch.ones(n, n, dtype=torch.bool), 1)


def f32(x):
    return x.to(torch.float32).to(torch.float64)


def finish(path, case, module, inputs, out, extra, loss, store):
    loss.backward()
    tensors = {name: p for name, p in module.named_parameters()}
    for k, x in inputs.items():
        tensors['@in.' + k] = x
    tensors['@out'] = out
    tensors.update(store)
    tensors.update(extra)
    tensors['@loss'] = loss.reshape(1)
    for name, p in module.named_parameters():
        tensors['@grad.' + name] = p.grad
    for k, x in inputs.items():
        if x.is_floating_point() and x.grad is not None:
            tensors['@grad_in.' + k] = x.grad
    save_safetensors(os.path.join(OUT_DIR, path), tensors, {'case': json.dumps(case)})
    print(f'{path}: {len(tensors)} tensors, loss {loss.item():.6f}')


def module_loss(out, gen):
    R = f32(torch.randn(out.shape, generator=gen, dtype=torch.float64))
    return (out * R).sum(), R


def mha_cases():
    # Self-attention with key padding and a causal mask.
    gen = torch.Generator().manual_seed(1)
    mha = nn.MultiheadAttention(D, H, dropout=0.0, batch_first=True).double()
    randomize(mha, gen)
    x = f32(torch.randn(B, S, D, generator=gen, dtype=torch.float64)).requires_grad_()
    kpm, am = padding(SRC_LENS, S), causal(S)
    out, w = mha(x, x, x, key_padding_mask=kpm, attn_mask=am, need_weights=True, average_attn_weights=False)
    loss, R = module_loss(out, gen)
    finish('mha_self.safetensors', {'kind': 'mha', 'self': True}, mha,
           {'x': x, 'key_padding_mask': kpm.double(), 'attn_mask': am.double()}, out,
           {'@R': R}, loss, {'@attn.self': w})

    # Cross-attention: queries from the target, keys = values from a padded source.
    gen = torch.Generator().manual_seed(2)
    mha = nn.MultiheadAttention(D, H, dropout=0.0, batch_first=True).double()
    randomize(mha, gen)
    q = f32(torch.randn(B, T, D, generator=gen, dtype=torch.float64)).requires_grad_()
    mem = f32(torch.randn(B, S, D, generator=gen, dtype=torch.float64)).requires_grad_()
    kpm = padding(SRC_LENS, S)
    out, w = mha(q, mem, mem, key_padding_mask=kpm, need_weights=True, average_attn_weights=False)
    loss, R = module_loss(out, gen)
    finish('mha_cross.safetensors', {'kind': 'mha', 'self': False}, mha,
           {'query': q, 'memory': mem, 'key_padding_mask': kpm.double()}, out, {'@R': R}, loss, {'@attn.self': w})

    # Distinct query, key and value (three separate projections), no mask.
    gen = torch.Generator().manual_seed(3)
    mha = nn.MultiheadAttention(D, H, dropout=0.0, batch_first=True).double()
    randomize(mha, gen)
    q = f32(torch.randn(B, T, D, generator=gen, dtype=torch.float64)).requires_grad_()
    k = f32(torch.randn(B, S, D, generator=gen, dtype=torch.float64)).requires_grad_()
    v = f32(torch.randn(B, S, D, generator=gen, dtype=torch.float64)).requires_grad_()
    out, w = mha(q, k, v, need_weights=True, average_attn_weights=False)
    loss, R = module_loss(out, gen)
    finish('mha_qkv.safetensors', {'kind': 'mha', 'self': False}, mha,
           {'query': q, 'key': k, 'value': v}, out, {'@R': R}, loss, {'@attn.self': w})


def layer_cases():
    for i, (norm_first, act) in enumerate([(False, 'relu'), (False, 'gelu'), (True, 'relu'), (True, 'gelu')]):
        tag = f"{'pre' if norm_first else 'post'}_{act}"
        case = {'normFirst': norm_first, 'activation': act}

        gen = torch.Generator().manual_seed(10 + i)
        enc = nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, activation=act, batch_first=True,
                                         norm_first=norm_first).double().train()
        randomize(enc, gen)
        store = {}
        record_attention(enc, store)
        x = f32(torch.randn(B, S, D, generator=gen, dtype=torch.float64)).requires_grad_()
        kpm = padding(SRC_LENS, S)
        # The post-norm ReLU case also carries a causal src_mask, so both masks are covered.
        am = causal(S) if i == 0 else None
        out = enc(x, src_mask=am, src_key_padding_mask=kpm)
        loss, R = module_loss(out, gen)
        inputs = {'x': x, 'src_key_padding_mask': kpm.double()}
        if am is not None:
            inputs['src_mask'] = am.double()
        finish(f'encoder_layer_{tag}.safetensors', {'kind': 'encoder_layer', **case}, enc, inputs, out,
               {'@R': R}, loss, store)

        gen = torch.Generator().manual_seed(20 + i)
        dec = nn.TransformerDecoderLayer(D, H, FF, dropout=0.0, activation=act, batch_first=True,
                                         norm_first=norm_first).double().train()
        randomize(dec, gen)
        store = {}
        record_attention(dec, store)
        tgt = f32(torch.randn(B, T, D, generator=gen, dtype=torch.float64)).requires_grad_()
        mem = f32(torch.randn(B, S, D, generator=gen, dtype=torch.float64)).requires_grad_()
        tkpm, mkpm, tm = padding(TGT_LENS, T), padding(SRC_LENS, S), causal(T)
        out = dec(tgt, mem, tgt_mask=tm, tgt_key_padding_mask=tkpm, memory_key_padding_mask=mkpm)
        loss, R = module_loss(out, gen)
        finish(f'decoder_layer_{tag}.safetensors', {'kind': 'decoder_layer', **case}, dec,
               {'tgt': tgt, 'memory': mem, 'tgt_mask': tm.double(), 'tgt_key_padding_mask': tkpm.double(),
                'memory_key_padding_mask': mkpm.double()}, out, {'@R': R}, loss, store)


def sinusoids(n, d):
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    i2 = torch.arange(0, d, 2, dtype=torch.float64)
    angle = pos / torch.pow(10000.0, i2 / d)
    pe = torch.zeros(n, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle)
    return f32(pe)


class RefModel(nn.Module):
    """Embeddings·√D + sinusoids → nn.Transformer (batch first) → generator, named like qkv's model."""

    def __init__(self, src_vocab, tgt_vocab, norm_first, act, final_norm, share):
        super().__init__()
        self.src_embed = nn.Embedding(src_vocab, D)
        self.tgt_embed = nn.Embedding(tgt_vocab, D)
        kw = dict(dim_feedforward=FF, dropout=0.0, activation=act, batch_first=True, norm_first=norm_first)
        enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, H, **kw), 2,
                                    norm=nn.LayerNorm(D) if final_norm else None, enable_nested_tensor=False)
        dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(D, H, **kw), 2,
                                    norm=nn.LayerNorm(D) if final_norm else None)
        t = nn.Transformer(D, H, custom_encoder=enc, custom_decoder=dec, batch_first=True)
        # Our names have no `transformer.` level: keep the stacks as direct children.
        self.encoder, self.decoder = t.encoder, t.decoder
        self.generator = nn.Linear(D, tgt_vocab)
        if share:
            self.tgt_embed.weight = self.src_embed.weight
            self.generator.weight = self.src_embed.weight

    def forward(self, src, tgt):
        pe = sinusoids(64, D)
        x = self.src_embed(src) * math.sqrt(D) + pe[:src.shape[1]]
        y = self.tgt_embed(tgt) * math.sqrt(D) + pe[:tgt.shape[1]]
        skpm, tkpm = src == PAD, tgt == PAD
        memory = self.encoder(x, src_key_padding_mask=skpm)
        h = self.decoder(y, memory, tgt_mask=causal(tgt.shape[1]), tgt_key_padding_mask=tkpm,
                         memory_key_padding_mask=skpm)
        return self.generator(h)


def model_cases():
    cases = [
        # torch.nn.Transformer's own layout: post-norm with a final norm after each stack.
        ('model_post_relu', dict(norm_first=False, act='relu', final_norm=True, share=False, src_vocab=V, tgt_vocab=13)),
        # Pre-norm, GELU, one shared embedding matrix (§3.4).
        ('model_pre_gelu_shared', dict(norm_first=True, act='gelu', final_norm=True, share=True, src_vocab=V, tgt_vocab=V)),
        # Exactly the paper: post-norm, no extra final norm.
        ('model_post_relu_nofinal', dict(norm_first=False, act='relu', final_norm=False, share=False, src_vocab=V, tgt_vocab=V)),
    ]
    for i, (name, c) in enumerate(cases):
        gen = torch.Generator().manual_seed(100 + i)
        model = RefModel(c['src_vocab'], c['tgt_vocab'], c['norm_first'], c['act'], c['final_norm'], c['share']).double().train()
        randomize(model, gen)
        store = {}
        record_attention(model, store)
        # Ids avoid PAD except in the padded tails; the second row of each batch is shorter.
        src = torch.randint(1, c['src_vocab'], (B, S), generator=gen)
        tgt = torch.randint(1, c['tgt_vocab'], (B, T + 1), generator=gen)
        for b in range(B):
            src[b, SRC_LENS[b]:] = PAD
            tgt[b, TGT_LENS[b] + 1:] = PAD
        tgt_in, tgt_out = tgt[:, :-1], tgt[:, 1:]
        logits = model(src, tgt_in)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1), ignore_index=PAD,
                               label_smoothing=0.1)
        case = {'kind': 'model', 'srcVocab': c['src_vocab'], 'tgtVocab': c['tgt_vocab'], 'normFirst': c['norm_first'],
                'activation': c['act'], 'finalNorm': c['final_norm'], 'shareEmbeddings': c['share'],
                'dModel': D, 'heads': H, 'dFF': FF, 'encoderLayers': 2, 'decoderLayers': 2, 'pad': PAD,
                'labelSmoothing': 0.1}
        # named_parameters() lists a tied tensor once; the state dict (and our loader) wants every name.
        finish_model(f'{name}.safetensors', case, model, {'src': src, 'tgt_in': tgt_in, 'tgt_out': tgt_out},
                     logits, loss, store)


def finish_model(path, case, model, inputs, logits, loss, store):
    loss.backward()
    tensors = dict(model.state_dict())
    for k, x in inputs.items():
        tensors['@in.' + k] = x
    tensors['@out'] = logits
    tensors.update(store)
    tensors['@loss'] = loss.reshape(1)
    for name, p in model.named_parameters():
        tensors['@grad.' + name] = p.grad
    save_safetensors(os.path.join(OUT_DIR, path), tensors, {'case': json.dumps(case)})
    print(f'{path}: {len(tensors)} tensors, loss {loss.item():.6f}')


if __name__ == '__main__':
    os.makedirs(OUT_DIR, exist_ok=True)
    torch.set_num_threads(1)
    mha_cases()
    layer_cases()
    model_cases()
