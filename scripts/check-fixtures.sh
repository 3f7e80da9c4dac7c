#!/usr/bin/env bash
# Regenerates every committed test fixture with its generator (scripts/gen_*.py, PyTorch) and fails on any
# difference from the committed bytes, or on a fixture file git does not track. .ci/run calls it before npm test.
# Run: scripts/check-fixtures.sh   (needs /usr/bin/python3 with torch, and a git checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
# A CI checkout may belong to another user than root: trust this one directory for these commands only.
git() { command git -c safe.directory="$PWD" "$@"; }
if ! err=$(git rev-parse --is-inside-work-tree 2>&1); then
  echo "check-fixtures: $PWD is not a usable git checkout ($err); expected one, to compare the fixtures with the committed ones" >&2
  exit 1
fi
if ! err=$(/usr/bin/python3 -c 'import torch' 2>&1); then
  echo "check-fixtures: /usr/bin/python3 cannot import torch (${err##*$'\n'}); expected it for the generators (apt-get install python3-torch)" >&2
  exit 1
fi
if ! git diff --quiet -- test/fixtures || [ -n "$(git ls-files --others --exclude-standard -- test/fixtures)" ]; then
  echo "check-fixtures: test/fixtures has uncommitted changes; commit or restore them first (this script overwrites them)" >&2
  exit 1
fi
start=$SECONDS
for gen in scripts/gen_*.py; do
  t=$SECONDS
  # One thread, as the fixtures were written: a parallel reduction could round differently on a bigger machine.
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$gen" >/dev/null
  echo "check-fixtures: $gen ($((SECONDS - t)) s)"
done
status=0
if ! git diff --exit-code --stat -- test/fixtures; then
  echo "check-fixtures: the generators above no longer write the committed fixtures (diff above); regenerate and commit them, or fix the generator" >&2
  status=1
fi
untracked=$(git ls-files --others --exclude-standard -- test/fixtures)
if [ -n "$untracked" ]; then
  echo "check-fixtures: the generators wrote fixture files that are not committed:" >&2
  echo "$untracked" >&2
  status=1
fi
[ "$status" = 0 ] && echo "check-fixtures: every fixture is byte-identical to the committed one ($((SECONDS - start)) s)"
exit "$status"
