#!/usr/bin/env bash
# The transfer-learning table (issue 15): SpamAssassin test accuracy and spam precision/recall/F1 of 27
# fine-tuning runs — BERT from scratch, BERT pre-trained (mlm), GPT pre-trained (lm); 1%, 10% and 100% of the
# training labels; seeds 0, 1, 2 — collected into one JSON file (then: node scripts/plot-transfer.mjs it).
#
#   scripts/transfer-table.sh BERT_CHECKPOINT GPT_CHECKPOINT [OUT_DIR]
#
# BERT_CHECKPOINT: a run of configs/bert-pretrain.json (task mlm), e.g. runs/bert-pre;
# GPT_CHECKPOINT:  a run of configs/gpt-pretrain.json (task lm, corpus pretraining), e.g. runs/gpt-pre.
# Each run is 60 / 150 / 400 steps (1% / 10% / 100% of the labels) within configs/classify-*.json's maxMinutes, plus
# its test evaluation; JOBS=2 runs two at a time, MODELS='bert-scratch' only some of the three;
# a run whose folder already holds test.json is skipped, so the script resumes where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then echo "usage: scripts/transfer-table.sh BERT_CHECKPOINT GPT_CHECKPOINT [OUT_DIR]" >&2; exit 2; fi
BERT=$1
GPT=$2
OUT=${3:-runs/transfer}
mkdir -p "$OUT"
QKV="node bin/qkv.js"

# Steps per run grow with the labels: 1% is ~45 texts, 10% ~450, 100% ~4,500 (about 3 epochs at 400 steps).
steps_of() { case $1 in 0.01) echo 60 ;; 0.1) echo 150 ;; *) echo 400 ;; esac; }

run_one() {
  local model=$1 fraction=$2 seed=$3 config init=()
  case $model in
    bert-scratch)    config=configs/classify-bert-scratch.json ;;
    bert-pretrained) config=configs/classify-bert-finetune.json; init=(--init-from "$BERT") ;;
    gpt-pretrained)  config=configs/classify-gpt-finetune.json;  init=(--init-from "$GPT") ;;
  esac
  local run="$OUT/$model-$fraction-$seed"
  [ -f "$run/test.json" ] && return 0
  echo "== $model, labelFraction $fraction, seed $seed → $run" >&2
  $QKV train "$config" "${init[@]}" --label-fraction "$fraction" --seed "$seed" --steps "$(steps_of "$fraction")" --out "$run" --overwrite > "$run.log" 2>&1
  $QKV eval "$run/best" --split test > "$run/eval.txt"
  # `qkv eval` prints "name value" lines after its first line; keep them as numbers.
  node -e '
    const [file, model, fraction, seed] = process.argv.slice(1);
    const lines = require("fs").readFileSync(file, "utf8").trim().split("\n").slice(1);
    const metrics = Object.fromEntries(lines.map((l) => l.trim().split(/\s+/)).map(([k, v]) => [k, Number(v.replace(/,/g, ""))]));
    console.log(JSON.stringify({ model, fraction: Number(fraction), seed: Number(seed), metrics }));
  ' "$run/eval.txt" "$model" "$fraction" "$seed" > "$run/test.json"
  echo "   $model $fraction $seed: $(tr '\n' ' ' < "$run/eval.txt")" >&2
}
export -f run_one steps_of
export BERT GPT OUT QKV

# JOBS runs at once (default 1), each with QKV_THREADS = cores / JOBS unless set.
JOBS=${JOBS:-1}
export QKV_THREADS=${QKV_THREADS:-$(( $(nproc) / JOBS > 0 ? $(nproc) / JOBS : 1 ))}
for model in ${MODELS:-bert-scratch bert-pretrained gpt-pretrained}; do
  for fraction in 1 0.1 0.01; do
    for seed in 0 1 2; do echo "$model $fraction $seed"; done
  done
done | xargs -P "$JOBS" -L 1 bash -c 'run_one "$@"' _

node -e '
  const fs = require("fs"); const path = require("path");
  const out = process.argv[1];
  const runs = fs.readdirSync(out).filter((d) => fs.existsSync(path.join(out, d, "test.json")))
    .map((d) => JSON.parse(fs.readFileSync(path.join(out, d, "test.json"), "utf8")));
  fs.writeFileSync(path.join(out, "transfer-table.json"), JSON.stringify({ dataset: "SpamAssassin test split", positive: "spam", runs }, null, 2) + "\n");
  console.log(`${runs.length} runs → ${path.join(out, "transfer-table.json")}`);
' "$OUT"
