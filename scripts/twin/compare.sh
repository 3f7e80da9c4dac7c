#!/bin/bash
# qkv and its PyTorch twin on configs/<task>-compare.json, side by side on one thread each:
#   bash scripts/twin/compare.sh lm|translate
# Writes runs/<task>-compare (qkv run, .out, .jsonl, .eval) and runs/twin-<task>-compare (export, twin, score).
set -euo pipefail
T=${1:?usage: compare.sh lm|translate}
cd "$(dirname "$0")/../.."
C=configs/$T-compare.json
STEPS=$(node -p "JSON.parse(require('fs').readFileSync('$C','utf8')).maxSteps")
mkdir -p runs
(QKV_THREADS=1 node bin/qkv.js train "$C" --out "runs/$T-compare" --log "runs/$T-compare.jsonl" > "runs/$T-compare.out" 2>&1 &&
  node bin/qkv.js eval "runs/$T-compare" > "runs/$T-compare.eval" 2>&1) &
(node --import tsx scripts/twin/export.ts "$C" --out "runs/twin-$T-compare" > "runs/twin-$T-compare.export" 2>&1 &&
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/twin/train_twin.py "runs/twin-$T-compare" --steps "$STEPS" --threads 1 > "runs/twin-$T-compare.out" 2>&1 &&
  node --import tsx scripts/twin/score.ts "runs/twin-$T-compare" > "runs/twin-$T-compare.score" 2>&1) &
wait
cat "runs/$T-compare.eval" "runs/twin-$T-compare.score"
