#!/usr/bin/env bash
# Runs the unit tests and the small-N integration suites under miri (nightly).
# Usage: scripts/miri.sh [extra integration test names...]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo +nightly miri --version >/dev/null 2>&1; then
  rustup component add --toolchain nightly miri rust-src >/dev/null 2>&1 || true
fi
if ! cargo +nightly miri --version >/dev/null 2>&1; then
  echo "miri: NOT RUN - the nightly toolchain's miri component cannot be installed here." >&2
  exit 1
fi
tests=(miri_notify miri_mailbox "$@")
args=()
for t in "${tests[@]}"; do
  [ -f "tests/$t.rs" ] && args+=(--test "$t")
done
start=$SECONDS
# Strict provenance: the crate does no pointer-integer casts; keep it that way.
MIRIFLAGS="${MIRIFLAGS:--Zmiri-strict-provenance}" CARGO_TARGET_DIR=target/miri \
  cargo +nightly miri test --lib "${args[@]}"
echo "miri: clean in $((SECONDS - start))s"
