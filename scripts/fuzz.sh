#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer) of both primitives' operation sequences against
# sequential models. Usage: scripts/fuzz.sh [seconds per target, default 60]
#
# With cargo-fuzz installed this is `cargo fuzz run`. Without it (a fresh CI machine: installing
# cargo-fuzz takes minutes) the targets are built directly with the instrumentation flags that
# cargo-fuzz passes by default (sanitizer coverage + AddressSanitizer + `--cfg fuzzing`) and the
# resulting libFuzzer binaries are run the same way. Either way the corpus lives in
# fuzz/corpus/<target> (not committed) and a failure leaves its input in fuzz/artifacts/<target>.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: NOT RUN - no nightly toolchain here (libFuzzer instrumentation needs it)."
  exit 0
fi
targets=(mailbox_ops notify_ops)
start=$SECONDS
if command -v cargo-fuzz >/dev/null 2>&1; then
  for target in "${targets[@]}"; do
    echo "== fuzzing $target for ${seconds}s (cargo fuzz)"
    cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -max_len=512
  done
else
  host=$(rustc -vV | sed -n 's/^host: //p')
  flags="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
  flags+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters"
  flags+=" -Cllvm-args=-sanitizer-coverage-pc-table"
  flags+=" -Cllvm-args=-sanitizer-coverage-trace-compares"
  flags+=" --cfg fuzzing -Zsanitizer=address -Cdebug-assertions -Coverflow-checks"
  echo "== building the fuzz targets (no cargo-fuzz here: same flags, built directly)"
  # --target keeps the instrumentation off build scripts and proc macros, as cargo-fuzz does.
  RUSTFLAGS="$flags" CARGO_TARGET_DIR=fuzz/target \
    cargo +nightly build --release --manifest-path fuzz/Cargo.toml --target "$host" --bins
  for target in "${targets[@]}"; do
    echo "== fuzzing $target for ${seconds}s"
    mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
    "fuzz/target/$host/release/$target" -max_total_time="$seconds" -max_len=512 \
      -artifact_prefix="fuzz/artifacts/$target/" "fuzz/corpus/$target"
  done
fi
echo "fuzz: no failure in $((SECONDS - start))s"
