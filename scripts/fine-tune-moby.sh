#!/usr/bin/env bash
# Does fine-tuning help? Pre-train a GPT on State of the Union, then train on Moby-Dick (written out as a
# user's text file, chapters divisible by 10 held out) from that checkpoint and from scratch, with the
# same config and steps, and score both on the held-out chapters (README "Results", issue 13).
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/moby-dick-text.mjs runs/moby
[ -f runs/sotu-pre/last/config.json ] || node bin/qkv.js train configs/lm-sotu-pretrain.json --out runs/sotu-pre
node bin/qkv.js train configs/lm-moby.json --init-from runs/sotu-pre/last --out runs/moby-ft
node bin/qkv.js train configs/lm-moby.json --out runs/moby-scratch
for run in sotu-pre moby-ft moby-scratch; do
  node bin/qkv.js eval "runs/$run/last" --file runs/moby/moby-heldout.txt
done
