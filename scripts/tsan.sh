#!/usr/bin/env bash
# ThreadSanitizer over the multi-threaded tests (nightly; std is rebuilt instrumented).
# Usage: scripts/tsan.sh [extra test names...]   (default: the stress and channel suites)
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(rustc -vV | sed -n 's/^host: //p')
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "tsan: NOT RUN - no nightly toolchain here." >&2
  exit 0
fi
rustup component add --toolchain nightly rust-src >/dev/null 2>&1 || true
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(notify_stress notify_event_channel mailbox_enqueue mailbox_policies
  mailbox_receive mailbox_lifecycle mailbox_wakeups)
args=()
for t in "${tests[@]}"; do args+=(--test "$t"); done
start=$SECONDS
# allocator_may_return_null: one test asks for an impossible capacity and expects the
# allocation to fail (a panic naming it), not the sanitizer to abort on the size.
# The sanitizer needs every crate (std included) instrumented, hence -Zbuild-std; a target dir
# of its own keeps these artifacts away from the normal build.
RUSTFLAGS="-Zsanitizer=thread" RUSTDOCFLAGS="-Zsanitizer=thread" \
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 allocator_may_return_null=1" \
CARGO_TARGET_DIR=target/tsan \
  cargo +nightly test -Zbuild-std --target "$target" --release "${args[@]}" -- --test-threads=1
echo "tsan: clean in $((SECONDS - start))s"
