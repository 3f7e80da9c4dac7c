"""Scale-out without a home-made engine: qkv's Hugging Face-layout GPT-2 export trained a few steps with PyTorch's
DistributedDataParallel (2 processes, gloo, CPU), saved back in the same layout, and read by qkv again.

Run (from the repo root; /usr/bin/python3 with torch, node for the qkv side):
  node bin/qkv.js train lm --preset tiny --out runs/lm-tiny --steps 20
  node bin/qkv.js export --format hf runs/lm-tiny runs/lm-tiny-hf
  /usr/bin/python3 scripts/ddp_round_trip.py runs/lm-tiny-hf runs/lm-tiny-ddp --steps 5 --text README.md
It prints each step's loss (the mean over both ranks), checks that both ranks hold identical weights afterwards,
writes <out> (config.json, model.safetensors as save_pretrained lays them out, the tokenizer files copied), and
then runs scripts/hf-logits.ts on <out>: qkv's logits against PyTorch's on the same batch, largest difference.

The model is scripts/hf_twins.py's GPT2LMHeadModel (transformers' definition and names). With --text, the batches
are windows of that file's text in the folder's own tokens (qkv's tokenizer, through scripts/hf-logits.ts --encode),
at offsets drawn from a seeded generator, a different stream per rank (each rank its shard); without it, random token
ids. Next-token cross-entropy, AdamW(lr 1e-3). Dropout is off, so that the run is repeatable.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_twins as hf  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
WORLD = 2


def no_dropout(model):
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0


def batch(gen, stream, vocab, B, T):
    if stream is None:
        return torch.randint(0, vocab, (B, T + 1), generator=gen)
    starts = torch.randint(0, len(stream) - T - 1, (B,), generator=gen)
    return torch.stack([stream[s:s + T + 1] for s in starts.tolist()])


def encode(a):
    cmd = ['node', '--import', 'tsx', os.path.join(ROOT, 'scripts', 'hf-logits.ts'), a.src, '--encode', a.text]
    ids = json.loads(subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout)['ids']
    return torch.tensor(ids, dtype=torch.long)


def worker(rank, a, port, stream):
    os.environ['MASTER_ADDR'], os.environ['MASTER_PORT'] = '127.0.0.1', str(port)
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=WORLD)
    model, cfg = hf.load_folder(a.src, dtype=torch.float32)
    model.train()
    no_dropout(model)
    ddp = DDP(model)
    opt = torch.optim.AdamW(ddp.parameters(), lr=a.lr)
    gen = torch.Generator().manual_seed(a.seed * 1000 + rank)
    T = min(a.context, cfg.n_positions)
    for step in range(1, a.steps + 1):
        ids = batch(gen, stream, cfg.vocab_size, a.batch, T)
        logits = ddp(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()  # DDP all-reduces (averages) the gradients across the ranks here
        opt.step()
        mean = loss.detach().clone()
        dist.all_reduce(mean)
        if rank == 0:
            print(f'step {step}: loss {mean.item() / WORLD:.4f} (mean of {WORLD} ranks)', flush=True)
    # Both ranks must hold the same weights: DDP's promise, checked rather than trusted.
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    other = flat.clone()
    dist.broadcast(other, src=1)
    if rank == 0:
        diff = (flat - other).abs().max().item()
        print(f'ranks 0 and 1 after {a.steps} steps: largest weight difference {diff:.3g}', flush=True)
        with open(os.path.join(a.src, 'config.json')) as f:
            raw = json.load(f)
        if os.path.exists(a.out):
            shutil.rmtree(a.out)
        hf.save_folder(model, raw, a.out)
        for name in ('tokenizer.json', 'tokenizer_config.json'):
            if os.path.exists(os.path.join(a.src, name)):
                shutil.copy(os.path.join(a.src, name), os.path.join(a.out, name))
    dist.destroy_process_group()


def compare(a):
    """qkv's logits on <out> (scripts/hf-logits.ts) against this PyTorch GPT-2's, float64 from the saved weights."""
    model, cfg = hf.load_folder(a.out)
    gen = torch.Generator().manual_seed(12345)
    T = min(a.context, cfg.n_positions)
    ids = torch.randint(0, cfg.vocab_size, (2, T), generator=gen)
    mask = torch.ones_like(ids)
    mask[1, T // 2:] = 0
    with torch.no_grad():
        ref = model(ids, mask).reshape(-1)
    cmd = ['node', '--import', 'tsx', os.path.join(ROOT, 'scripts', 'hf-logits.ts'), a.out,
           '--ids', json.dumps(ids.tolist()), '--mask', json.dumps(mask.tolist())]
    out = json.loads(subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout)
    ours = torch.tensor(out['logits'], dtype=torch.float64)
    diff = (ours - ref).abs().max().item()
    rel = diff / ref.abs().max().item()
    print(f'qkv loads {a.out} as "{out["modelKind"]}": logits {out["shape"]}, largest difference from PyTorch {diff:.3g} '
          f'({rel:.3g} relative)')
    return rel


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('src', help='an HF-layout GPT-2 folder (qkv export --format hf)')
    ap.add_argument('out', help='where to write the trained folder')
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--batch', type=int, default=4, help='sequences per rank per step')
    ap.add_argument('--context', type=int, default=32, help='tokens per sequence (at most n_positions)')
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--text', help='a text file to train on (default: random token ids)')
    ap.add_argument('--port', type=int, default=29517)
    a = ap.parse_args()
    print(f'DDP: {WORLD} processes, gloo, CPU; {a.steps} steps of {a.batch} x {a.context} tokens per rank; {a.src} -> {a.out}', flush=True)
    stream = encode(a) if a.text else None
    if stream is not None:
        print(f'data: {a.text}, {len(stream)} tokens in the folder\'s tokenizer', flush=True)
    mp.spawn(worker, args=(a, a.port, stream), nprocs=WORLD, join=True)
    rel = compare(a)
    sys.exit(0 if rel <= 1e-4 else 1)


if __name__ == '__main__':
    main()
