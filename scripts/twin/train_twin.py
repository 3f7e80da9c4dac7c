"""The PyTorch twin of a qkv task run: trains on what scripts/twin/export.ts wrote, as qkv's recipe does.

Run: OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/twin/train_twin.py DIR [--steps N | --minutes M] [--seed S]
     (torch 1.13, CPU; DIR from `node --import tsx scripts/twin/export.ts <task> --preset P --out DIR`)

Matched with qkv: the data (the exact encoded pairs / token stream), tokenisation, model config,
  batches by the same token budget (shuffle, pools of 4096 sorted by length, greedy fill while
  rows * longest <= maxTokens, shuffle the batches; lm: shuffled chunks of context + 1 tokens),
  the loss (cross-entropy with label smoothing, mean over non-pad target tokens), Adam (0.9, 0.98,
  1e-9) with the Noam schedule (warm-up, factor), global-norm clipping, dropout, evaluation of the
  valid loss every evalEvery steps on the same valid subset with keep-best, and decoding of the whole
  test split with the same beam size, alpha, batching and length limits (lm: the test loss).
Not matched: the random numbers (initialisation, dropout masks, batch order are drawn by torch and
  Python, not by qkv's Rng), float summation order, and early stopping (--steps trains exactly N steps).

Writes DIR/twin/: result.json (steps, tokens seen, tokens/s, best step and valid loss, test NLL for lm)
and, for g2p and translate, hypotheses.jsonl ({"ids": [...], "text": "..."} per test example, in order).
Score them with our metrics: node --import tsx scripts/twin/score.ts DIR
"""
import argparse
import copy
import json
import math
import os
import random
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402  (after OMP_WAIT_POLICY)
import torch.nn.functional as F  # noqa: E402

from twin_decode import TextDecoder, decode_all, pad_rows  # noqa: E402
from twin_models import build_model  # noqa: E402


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_i32(path):
    with open(path, "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=torch.int32).long()


# ---- batches (src/data/batching.ts) ----

def plan_batches(lengths, max_tokens, rng=None, pool_size=4096):
    """planBatches: with rng, shuffle, sort pools by length, fill greedily under the budget, shuffle batches."""
    order = list(range(len(lengths)))
    if rng:
        rng.shuffle(order)
    pool = pool_size if rng else max(len(order), 1)
    batches = []
    for start in range(0, len(order), pool):
        cur, longest = [], 0
        for i in sorted(order[start: start + pool], key=lambda i: lengths[i]):
            nl = max(longest, lengths[i])
            if cur and (len(cur) + 1) * nl > max_tokens:
                batches.append(cur)
                cur, nl = [], lengths[i]
            cur.append(i)
            longest = nl
        if cur:
            batches.append(cur)
    if rng:
        rng.shuffle(batches)
    return batches


def collate_pairs(pairs, idx, sp):
    """src, src_pad, tgt_in = <s> + tgt, tgt_out = tgt + </s>, tgt_pad, and the non-pad target tokens."""
    src, src_pad = pad_rows([pairs[i][0] for i in idx], sp["padId"])
    tgt_in, tgt_pad = pad_rows([[sp["bosId"]] + pairs[i][1] for i in idx], sp["padId"])
    tgt_out, _ = pad_rows([pairs[i][1] + [sp["eosId"]] for i in idx], sp["padId"])
    return src, src_pad, tgt_in, tgt_out, tgt_pad, sum(len(pairs[i][1]) + 1 for i in idx)


def pair_batches(pairs, sp, max_tokens, rng=None):
    lengths = [max(len(s), len(t) + 1) for s, t in pairs]  # pairLength
    for idx in plan_batches(lengths, max_tokens, rng):
        yield collate_pairs(pairs, idx, sp)


def lm_batches(stream, context, max_tokens, rng=None):
    """lmBatches: chunk k is tokens [k*C, k*C + C]; rows per batch = max(maxTokens, C) // C."""
    n = (len(stream) - 1) // context
    rows = max(max_tokens, context) // context
    order = list(range(n))
    if rng:
        rng.shuffle(order)
    for start in range(0, n, rows):
        ks = torch.tensor(order[start: start + rows])
        pos = ks[:, None] * context + torch.arange(context + 1)[None, :]
        chunk = stream[pos]
        yield chunk[:, :-1], chunk[:, 1:]


# ---- loss and evaluation ----

def seq2seq_loss(model, batch, sp, smoothing, reduction="mean"):
    src, src_pad, tgt_in, tgt_out, tgt_pad, tokens = batch
    logits = model(src, src_pad, tgt_in, tgt_pad)  # [B, T, V]
    loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), tgt_out.reshape(-1), ignore_index=sp["padId"],
                           label_smoothing=smoothing, reduction=reduction)
    return loss, tokens


def lm_loss(model, batch, smoothing, reduction="mean"):
    x, y = batch
    logits = model(x)  # [B, C, V]
    loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), label_smoothing=smoothing, reduction=reduction)
    return loss, y.numel()


@torch.no_grad()
def summed_nll(model, batches, kind, sp):
    """Sum of -log p over the target tokens (nats, no smoothing, float64) and their count."""
    model.eval()
    total, tokens = 0.0, 0
    for b in batches:
        loss, n = seq2seq_loss(model, b, sp, 0.0, "sum") if kind == "transformer" else lm_loss(model, b, 0.0, "sum")
        total += float(loss)
        tokens += n
    model.train()
    return total, tokens


def noam(step, d_model, warmup, factor):
    """lrate = factor * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5), step from 1."""
    return factor * d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5)


# ---- the run ----

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--steps", type=int, help="train exactly this many steps (default: the config's maxSteps, with its maxMinutes)")
    g.add_argument("--minutes", type=float, help="train for this many minutes")
    ap.add_argument("--seed", type=int, help="seed of torch and the batch order (default: the config's)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="output folder (default DIR/twin)")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    d = a.dir
    meta = json.load(open(os.path.join(d, "twin.json"), encoding="utf-8"))
    tr, m, sp, task = meta["training"], meta["model"], meta["special"], meta["task"]
    seed = tr["seed"] if a.seed is None else a.seed
    max_steps = a.steps if a.steps is not None else (10 ** 12 if a.minutes is not None else tr["maxSteps"])
    minutes = a.minutes if a.minutes is not None else (None if a.steps is not None else tr["maxMinutes"])
    out = a.out or os.path.join(d, "twin")
    os.makedirs(out, exist_ok=True)

    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = build_model(m)
    params = sum(p.numel() for p in model.parameters())
    kind = m["kind"]
    if kind == "transformer":
        train = read_jsonl(os.path.join(d, "train.jsonl"))
        valid = read_jsonl(os.path.join(d, "valid.jsonl"))
        epoch_batches = lambda: pair_batches(train, sp, tr["maxTokens"], rng)
        valid_batches = lambda: pair_batches(valid, sp, tr["maxTokens"])
        step_loss = lambda b: seq2seq_loss(model, b, sp, tr["labelSmoothing"])
    else:
        C = meta["lm"]["context"]
        train, valid = read_i32(os.path.join(d, "train.i32")), read_i32(os.path.join(d, "valid.i32"))
        epoch_batches = lambda: lm_batches(train, C, tr["maxTokens"], rng)
        valid_batches = lambda: lm_batches(valid, C, tr["maxTokens"])
        step_loss = lambda b: lm_loss(model, b, tr["labelSmoothing"])
    opt = torch.optim.Adam(model.parameters(), lr=0.0, betas=tuple(tr["adam"]["betas"]), eps=tr["adam"]["eps"])
    limit = " or ".join(([f"{max_steps} steps"] if max_steps < 10 ** 12 else []) + ([f"{minutes} min"] if minutes is not None else []))
    print(f"twin {task} (preset {meta['preset']}): {meta['summary']}", file=sys.stderr)
    print(f"model: {kind} (torch {torch.__version__}, {a.threads} threads), {params:,} parameters; training up to {limit}", file=sys.stderr)

    step, epoch, tokens_seen, train_seconds = 0, 0, 0, 0.0
    best = None  # (validLoss, step, state)
    evals, win = [], [0.0, 0, 0, 0.0]  # loss sum, steps, tokens, seconds since the last evaluation
    it = epoch_batches()
    model.train()
    while step < max_steps and (minutes is None or train_seconds < minutes * 60):
        b = next(it, None)
        if b is None:
            epoch += 1
            it = epoch_batches()
            continue
        t0 = time.perf_counter()
        lr = noam(step + 1, tr["scheduleDModel"], tr["warmup"], tr["lrFactor"])
        for group in opt.param_groups:
            group["lr"] = lr
        loss, tokens = step_loss(b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tr["clipGradNorm"])
        opt.step()
        seconds = time.perf_counter() - t0
        step += 1
        train_seconds += seconds
        tokens_seen += tokens
        win = [win[0] + float(loss), win[1] + 1, win[2] + tokens, win[3] + seconds]
        if step % tr["evalEvery"] == 0:
            nll, n = summed_nll(model, valid_batches(), kind, sp)
            vl = nll / n
            improved = best is None or vl < best[0]
            if improved:
                best = (vl, step, copy.deepcopy(model.state_dict()))
            evals.append({"step": step, "validLoss": vl})
            print(f"step {step}  loss {win[0] / win[1]:.3f}  {round(win[2] / max(win[3], 1e-9))} tok/s  | validLoss {vl:.4g}"
                  f"{'  (best)' if improved else ''}", flush=True)
            win = [0.0, 0, 0, 0.0]
    reason = "maxSteps" if step >= max_steps else "maxMinutes"
    print(f"done: {step} steps in {train_seconds:.1f} s (stopped by {reason}); {tokens_seen:,} target tokens "
          f"({round(tokens_seen / max(train_seconds, 1e-9))} tok/s)"
          + (f"; best validLoss {best[0]:.4g} at step {best[1]}" if best else "; no evaluation"), flush=True)
    if best:
        model.load_state_dict(best[2])  # qkv eval scores out/best
    model.eval()

    result = {
        "task": task, "preset": meta["preset"], "seed": seed, "threads": a.threads, "torch": torch.__version__,
        "parameters": params, "steps": step, "epochs": epoch, "stoppedBy": reason, "targetTokens": tokens_seen,
        "trainSeconds": train_seconds, "tokensPerSecond": tokens_seen / max(train_seconds, 1e-9),
        "best": {"step": best[1], "validLoss": best[0]} if best else None, "evals": evals,
    }
    t0 = time.perf_counter()
    if kind == "gpt":
        nll, n = summed_nll(model, lm_batches(read_i32(os.path.join(d, "test.i32")), C, tr["maxTokens"]), kind, sp)
        result["test"] = {"nll": nll, "tokens": n}
        print(f"test loss {nll / n:.4f} over {n:,} tokens", flush=True)
    else:
        test = read_jsonl(os.path.join(d, "test.jsonl"))
        tok = TextDecoder(os.path.join(d, "target-tokenizer.json" if task == "g2p" else "tokenizer.json"))
        tty = sys.stderr.isatty()
        progress = lambda done, total: print(f"\rdecoding {done}/{total}", end="", file=sys.stderr, flush=True)
        hyps = decode_all(model, [ex["src"] for ex in test], sp, meta["decode"], progress if tty else None)
        if tty:
            print(file=sys.stderr)
        with open(os.path.join(out, "hypotheses.jsonl"), "w", encoding="utf-8") as f:
            for ids in hyps:
                f.write(json.dumps({"ids": ids, "text": tok.decode(ids)}, ensure_ascii=False) + "\n")
        print(f"decoded {len(hyps):,} test examples with beam {meta['decode']['beam']}", flush=True)
    result["evalSeconds"] = time.perf_counter() - t0
    with open(os.path.join(out, "result.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    twin_flag = "" if a.out is None else f" --twin {out}"
    print(f"wrote {out}/result.json; score with: node --import tsx scripts/twin/score.ts {d}{twin_flag}")


if __name__ == "__main__":
    main()
