"""Decoding for the PyTorch twin: batched beam search with Wu et al.'s length penalty (the rules of
src/generate/beam.ts), the recipes' test-time batching, and ids -> text from an exported tokenizer.json.
"""
import json
import math

import torch
import torch.nn.functional as F

from twin_models import reorder_cache


def length_penalty(length, alpha):
    """lp(Y) = ((5 + |Y|) / 6)^alpha."""
    return ((5 + length) / 6) ** alpha


@torch.no_grad()
def beam_search(model, src, src_pad, bos, eos, max_len, K, alpha, use_cache=True):
    """Per source, the best hypothesis (ids without <s>/</s>) by log P(Y|X) / lp(|Y|).

    As beam.ts: K live prefixes per source; of the 2K best one-token extensions, an </s> ranked in
    the top K finishes a hypothesis, the first K others stay live; at max_len the live ones finish
    too; a source stops when K are finished and no live prefix can beat the worst (its best possible
    score is logP / lp(max_len)). With use_cache the decoder runs only the new position each step
    (model.decode_step); without, it reruns the whole prefix (the slow reference of the cache).
    """
    B = src.size(0)
    memory = model.encode(src, src_pad).repeat_interleave(K, 0)  # [B*K, S, D]
    pad = src_pad.repeat_interleave(K, 0)                          # [B*K, S]
    lp = lambda n: length_penalty(n, alpha)
    best_lp = lp(max_len) if alpha >= 0 else None
    seqs = [[bos] for _ in range(B * K)]
    cache = model.start_cache(memory, pad) if use_cache else None
    logp = torch.tensor([0.0 if r % K == 0 else -math.inf for r in range(B * K)], dtype=torch.float64)
    finished = [[] for _ in range(B)]  # (score, logP, tokens)
    done = [False] * B
    for step in range(max_len):
        if cache is not None:
            logits = model.decode_step(cache, torch.tensor([s[-1] for s in seqs]))               # [B*K, V]
        else:
            logits = model.decode(torch.tensor(seqs), memory, pad, last_only=True)[:, -1]     # [B*K, V]
        rows = F.log_softmax(logits.float(), dim=-1).double()                                  # [B*K, V]
        V = rows.size(1)
        total = (logp[:, None] + rows).view(B, K * V)                             # [B, K*V]
        top_v, top_i = total.topk(min(2 * K, K * V), dim=1)
        length = step + 1
        nxt = []
        for b in range(B):
            kept = []
            if not done[b]:
                live = [(v, int(i) // V + b * K, int(i) % V) for v, i in zip(top_v[b].tolist(), top_i[b].tolist()) if v > -math.inf]
                for rank, (v, parent, tok) in enumerate(live):
                    if len(kept) >= K:
                        break
                    if tok == eos:
                        if rank < K:
                            finished[b].append((v / lp(length), v, seqs[parent][1:]))
                    else:
                        kept.append((parent, tok, v))
                if length == max_len:
                    finished[b].extend((v / lp(length), v, seqs[parent][1:] + [tok]) for parent, tok, v in kept)
                    kept = []
                finished[b].sort(key=lambda h: -h[0])
                del finished[b][K:]
                bl = best_lp if best_lp is not None else lp(length + 1)
                done[b] = not kept or (len(finished[b]) >= K and finished[b][K - 1][0] >= max(v for _, _, v in kept) / bl)
            kept += [(b * K, eos, -math.inf)] * (K - len(kept))  # idle rows
            nxt.extend(kept)
        if all(done):
            break
        parents = [parent for parent, _, _ in nxt]
        if cache is not None:
            reorder_cache(cache, parents)
        seqs = [seqs[parent] + [tok] for parent, tok, _ in nxt]
        logp = torch.tensor([v for _, _, v in nxt], dtype=torch.float64)
    return [f[0][2] if f else [] for f in finished]


def pad_rows(rows, pad_id):
    """Right-padded LongTensor [B, W] and its bool mask (True = padding)."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.ones(len(rows), width, dtype=torch.bool)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, : len(r)] = False
    return ids, mask


def decode_all(model, sources, special, rule, on_batch=None):
    """As decodeAll in src/inference/seq2seq.ts: sources sorted by length (stable), batches of
    rule.batchSize, max_len = round(scale * width) + add for the batch's padded width; results in input order."""
    model.eval()
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    out = [None] * len(sources)
    bs = rule["batchSize"]
    for start in range(0, len(order), bs):
        idx = order[start: start + bs]
        rows = [sources[i] if sources[i] else [special["eosId"]] for i in idx]
        src, mask = pad_rows(rows, special["padId"])
        max_len = math.floor(rule["maxLenScale"] * src.size(1) + 0.5) + rule["maxLenAdd"]  # JS Math.round
        best = beam_search(model, src, mask, special["bosId"], special["eosId"], max_len, rule["beam"], rule["lengthPenalty"])
        for i, ids in zip(idx, best):
            out[i] = ids
        if on_batch:
            on_batch(min(start + bs, len(order)), len(order))
    return out


def bytes_to_unicode():
    """GPT-2's byte -> printable character map (the ByteLevel alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


class TextDecoder:
    """ids -> text with a tokenizer.json as qkv writes it, skipping special tokens (decode(ids, { skipSpecial: true }))."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            j = json.load(f)
        self.tokens = {i: t for t, i in j["model"]["vocab"].items()}
        self.special = set()
        for a in j.get("added_tokens") or []:
            self.tokens[a["id"]] = a["content"]
            if a.get("special", True):
                self.special.add(a["id"])
        dec = j.get("decoder")
        self.kind = None if dec is None else dec["type"]
        if self.kind not in (None, "Fuse", "ByteLevel"):
            raise ValueError(f"{path}: decoder type {self.kind!r}, expected ByteLevel, Fuse or none")
        self.byte_of = {c: b for b, c in bytes_to_unicode().items()}

    def decode(self, ids):
        toks = [self.tokens[i] for i in ids if i not in self.special]
        if self.kind == "ByteLevel":
            return bytes(self.byte_of[c] for t in toks for c in t).decode("utf-8", errors="replace")
        return "".join(toks) if self.kind == "Fuse" else " ".join(toks)
