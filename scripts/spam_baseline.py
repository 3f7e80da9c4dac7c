#!/usr/bin/python3
"""Bag-of-words logistic regression on qkv's SpamAssassin split: the yardstick of the transfer table.

Reads the JSONL that scripts/spam-split.mjs writes, trains on 1%, 10% and 100% of the training
labels (3 seeds each), and prints test accuracy and spam precision / recall / F1 as a table and JSON.
The label subsets follow labelSubset in src/data/spam.ts: within each label, training examples are
ordered by fnv1a32(f"{seed}:{id}") (then id) and the first ceil(fraction * n_label) are kept.
Features: TF-IDF of lowercased word unigrams and bigrams (sublinear tf, min_df 1), fit on the subset;
LogisticRegression(C=10, liblinear, class_weight balanced: the labels are 72% ham). The valid split is not used (no tuning).

Run: node --import tsx scripts/spam-split.mjs /tmp/spam && /usr/bin/python3 scripts/spam_baseline.py /tmp/spam
"""

import json
import math
import sys
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

FRACTIONS = (0.01, 0.1, 1.0)
SEEDS = (0, 1, 2)


def fnv1a32(text: str) -> int:
    h = 2166136261
    for b in text.encode("utf-8"):
        h ^= b
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def label_subset(examples, fraction, seed):
    """As labelSubset in src/data/spam.ts: the first ceil(f * n) of each label by fnv1a32(f"{seed}:{id}"), input order kept."""
    keep = set()
    for label in sorted({e["label"] for e in examples}):
        group = [e for e in examples if e["label"] == label]
        group.sort(key=lambda e: (fnv1a32(f"{seed}:{e['id']}"), e["id"]))
        keep.update(e["id"] for e in group[: math.ceil(fraction * len(group))])
    return [e for e in examples if e["id"] in keep]


def read(path: Path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]  # not splitlines(): texts may hold U+2028


def run(train, test, fraction, seed):
    sub = label_subset(train, fraction, seed)
    vec = TfidfVectorizer(lowercase=True, ngram_range=(1, 2), sublinear_tf=True)
    x = vec.fit_transform([e["text"] for e in sub])
    clf = LogisticRegression(C=10.0, solver="liblinear", max_iter=1000, class_weight="balanced")
    clf.fit(x, [e["label"] for e in sub])
    pred = clf.predict(vec.transform([e["text"] for e in test]))
    gold = [e["label"] for e in test]
    p, r, f, _ = precision_recall_fscore_support(gold, pred, labels=["spam"], average=None, zero_division=0)
    return {"fraction": fraction, "seed": seed, "train_examples": len(sub), "accuracy": accuracy_score(gold, pred),
            "spam_precision": float(p[0]), "spam_recall": float(r[0]), "spam_f1": float(f[0])}


def main():
    if len(sys.argv) not in (2, 3):
        print("usage: spam_baseline.py <dir with train.jsonl and test.jsonl> [out.json: the runs as scripts/plot-transfer.mjs reads them]", file=sys.stderr)
        sys.exit(2)
    d = Path(sys.argv[1])
    train, test = read(d / "train.jsonl"), read(d / "test.jsonl")
    rows = [run(train, test, f, s) for f in FRACTIONS for s in SEEDS]
    print(f"test: {len(test)} mails ({sum(e['label'] == 'spam' for e in test)} spam); train: {len(train)}")
    print("| labels | seed | examples | accuracy | spam P | spam R | spam F1 |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['fraction']:.0%} | {r['seed']} | {r['train_examples']} | {r['accuracy']:.4f} | {r['spam_precision']:.4f} | {r['spam_recall']:.4f} | {r['spam_f1']:.4f} |")
    print("| labels | mean accuracy | mean spam F1 |")
    print("|---:|---:|---:|")
    for f in FRACTIONS:
        rs = [r for r in rows if r["fraction"] == f]
        print(f"| {f:.0%} | {sum(r['accuracy'] for r in rs) / len(rs):.4f} | {sum(r['spam_f1'] for r in rs) / len(rs):.4f} |")
    print(json.dumps(rows))
    if len(sys.argv) == 3:
        runs = [{"model": "baseline", "fraction": r["fraction"], "seed": r["seed"],
                 "metrics": {"accuracy": r["accuracy"], "precision": r["spam_precision"], "recall": r["spam_recall"], "f1": r["spam_f1"]}} for r in rows]
        Path(sys.argv[2]).write_text(json.dumps({"dataset": "SpamAssassin test split", "positive": "spam", "runs": runs}, indent=1) + "\n")


if __name__ == "__main__":
    main()
