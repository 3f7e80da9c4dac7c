#!/usr/bin/env bash
# The transfer-learning table (issue 15): SpamAssassin test accuracy and spam precision/recall/F1 of 27
# fine-tuning runs — BERT from scratch, BERT pre-trained (mlm), GPT pre-trained (lm); 1%, 10% and 100% of the
# training labels; seeds 0, 1, 2 — collected into one JSON file (then: node scripts/plot-transfer.mjs it).
#
#   scripts/transfer-table.sh BERT_CHECKPOINT GPT_CHECKPOINT [OUT_DIR]
#
# BERT_CHECKPOINT: a run of configs/bert-pretrain.json (task mlm), e.g. runs/bert-pre;
# GPT_CHECKPOINT:  a run of configs/gpt-pretrain.json (task lm, corpus pretraining), e.g. runs/gpt-pre.
# Each run is at most configs/classify-*.json's maxMinutes (6) of training plus its test evaluation;
# a run whose folder already holds test.json is skipped, so the script resumes where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then echo "usage: scripts/transfer-table.sh BERT_CHECKPOINT GPT_CHECKPOINT [OUT_DIR]" >&2; exit 2; fi
BERT=$1
GPT=$2
OUT=${3:-runs/transfer}
mkdir -p "$OUT"
QKV="node bin/qkv.js"

for model in bert-scratch bert-pretrained gpt-pretrained; do
  case $model in
    bert-scratch)    config=configs/classify-bert-scratch.json;  init=() ;;
    bert-pretrained) config=configs/classify-bert-finetune.json; init=(--init-from "$BERT") ;;
    gpt-pretrained)  config=configs/classify-gpt-finetune.json;  init=(--init-from "$GPT") ;;
  esac
  for fraction in 0.01 0.1 1; do
    for seed in 0 1 2; do
      run="$OUT/$model-$fraction-$seed"
      [ -f "$run/test.json" ] && continue
      echo "== $model, labelFraction $fraction, seed $seed → $run" >&2
      $QKV train "$config" "${init[@]}" --label-fraction "$fraction" --seed "$seed" --out "$run" --overwrite
      $QKV eval "$run/best" --split test > "$run/eval.txt"
      # `qkv eval` prints "name value" lines after its first line; keep them as numbers.
      node -e '
        const [file, model, fraction, seed] = process.argv.slice(1);
        const lines = require("fs").readFileSync(file, "utf8").trim().split("\n").slice(1);
        const metrics = Object.fromEntries(lines.map((l) => l.trim().split(/\s+/)).map(([k, v]) => [k, Number(v.replace(/,/g, ""))]));
        console.log(JSON.stringify({ model, fraction: Number(fraction), seed: Number(seed), metrics }));
      ' "$run/eval.txt" "$model" "$fraction" "$seed" > "$run/test.json"
    done
  done
done

node -e '
  const fs = require("fs"); const path = require("path");
  const out = process.argv[1];
  const runs = fs.readdirSync(out).filter((d) => fs.existsSync(path.join(out, d, "test.json")))
    .map((d) => JSON.parse(fs.readFileSync(path.join(out, d, "test.json"), "utf8")));
  fs.writeFileSync(path.join(out, "transfer-table.json"), JSON.stringify({ dataset: "SpamAssassin test split", positive: "spam", runs }, null, 2) + "\n");
  console.log(`${runs.length} runs → ${path.join(out, "transfer-table.json")}`);
' "$OUT"
