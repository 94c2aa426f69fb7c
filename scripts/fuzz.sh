#!/usr/bin/env bash
# Coverage-guided fuzzing of both primitives' operation sequences against sequential models
# (cargo-fuzz, nightly). Usage: scripts/fuzz.sh [seconds per target, default 60]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
for target in mailbox_ops notify_ops; do
  echo "== fuzzing $target for ${seconds}s"
  cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -max_len=512
done
echo "fuzz: no failure"
