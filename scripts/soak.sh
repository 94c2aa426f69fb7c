#!/usr/bin/env bash
# Soak tests (10^8 notifications, 10^7 messages, every invariant checked); minutes, not CI.
# SOAK_SCALE=N divides the volume by N for a quick run.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
cargo test --release --test soak -- --ignored --nocapture --test-threads=1
echo "soak: passed in $((SECONDS - start))s"
