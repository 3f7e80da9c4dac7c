"""Golden Hugging Face folders for qkv's HF reader: small GPT-2 and BERT models with random weights, written by
scripts/hf_twins.py (an independent implementation of transformers' GPT-2 and BERT) with their logits.

Run: /usr/bin/python3 scripts/gen_hf_fixtures.py   (torch 1.13; writes test/fixtures/hf/<case>/)
Each case folder holds config.json and model.safetensors as save_pretrained lays them out (tied weights once,
metadata {"format": "pt"}), and expected.json: the inputs (ids, token types, attention mask in HF's convention:
1 keep, 0 pad) and the logits computed in float64 from the float32 weights.
  gpt2         GPT2LMHeadModel, gelu_new, names under transformer.
  gpt2-bare    the same kind of model saved from a bare GPT2Model, as the hub's gpt2 is: no transformer. prefix,
               and the attention buffers h.N.attn.bias / h.N.attn.masked_bias, which readers must ignore
  gpt2-gelu    GPT2LMHeadModel with activation_function "gelu" (exact) and n_inner 24 (not 4 * n_embd)
  gpt2-cls     GPT2ForSequenceClassification, 3 labels, pad_token_id 0, right padding
  bert         BertForMaskedLM (no pooler, as transformers builds it), token types, padding
  bert-cls     BertForSequenceClassification, 2 labels
"""
import json
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_twins as hf  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'hf')


def inputs(kind, vocab, gen):
    B, T = 2, 7
    ids = torch.randint(1, vocab, (B, T), generator=gen)
    mask = torch.ones(B, T, dtype=torch.long)
    ids[1, 5:] = 0  # the second row right-padded with id 0
    mask[1, 5:] = 0
    types = None
    if kind.startswith('bert'):
        ids[:, 0] = 1  # [CLS] stands first
        types = torch.zeros(B, T, dtype=torch.long)
        types[0, 4:] = 1
        types[1, 3:5] = 1
    return ids, types, mask


def case(name, kind, seed, edit=None, bare=False):
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    raw = hf.small_config(kind)
    if edit:
        raw.update(edit)
    cls, defaults = hf.ARCHITECTURES[raw['architectures'][0]]
    cfg = hf.Config({**defaults, **raw})
    model = cls(cfg)
    gen = torch.Generator().manual_seed(seed)
    hf.randomize(model, gen)
    hf.save_folder(model, raw, d)
    if bare:
        # As the hub's gpt2: the base model's names, plus its causal-mask buffers.
        state, meta = hf.read_safetensors(os.path.join(d, 'model.safetensors'))
        state = {k[len('transformer.'):]: v for k, v in state.items()}
        P = raw['n_positions']
        for i in range(raw['n_layer']):
            state[f'h.{i}.attn.bias'] = torch.tril(torch.ones(P, P, dtype=torch.bool)).view(1, 1, P, P)
            state[f'h.{i}.attn.masked_bias'] = torch.tensor(-1e4)
        hf.write_safetensors(os.path.join(d, 'model.safetensors'), state, meta)
    ids, types, mask = inputs(kind, raw['vocab_size'], gen)
    m, _ = hf.load_folder(d)  # read back from the files, in float64
    with torch.no_grad():
        logits = m(ids, mask, types)
    exp = {'ids': ids.tolist(), 'attention_mask': mask.tolist(), 'token_type_ids': None if types is None else types.tolist(),
           'logits': logits.tolist()}
    with open(os.path.join(d, 'expected.json'), 'w') as f:
        json.dump(exp, f)
        f.write('\n')


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    case('gpt2', 'gpt2', 500)
    case('gpt2-bare', 'gpt2', 501, bare=True)
    case('gpt2-gelu', 'gpt2', 502, edit={'activation_function': 'gelu', 'n_inner': 24})
    case('gpt2-cls', 'gpt2-cls', 503)
    case('bert', 'bert', 504)
    case('bert-cls', 'bert-cls', 505)


if __name__ == '__main__':
    main()
