#!/usr/bin/env bash
# Runs every loom model (tests/loom_*.rs) with the crate built for loom.
# Usage: scripts/loom.sh [test-file-stem...]   e.g. scripts/loom.sh loom_waiter
# LOOM_MAX_PREEMPTIONS overrides each model's own preemption bound (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
stems=("$@")
if [ ${#stems[@]} -eq 0 ]; then
  for f in tests/loom_*.rs; do stems+=("$(basename "$f" .rs)"); done
fi
args=()
for s in "${stems[@]}"; do args+=(--test "$s"); done
start=$SECONDS
RUSTFLAGS="--cfg loom ${RUSTFLAGS:-}" CARGO_TARGET_DIR=target/loom \
  cargo test --release "${args[@]}" -- --test-threads=2
echo "loom: ${#stems[@]} model files passed in $((SECONDS - start))s"
