#!/usr/bin/env bash
# Model-checks the core's concurrency with loom: the `loom` unit tests inside crates/corio
# (`#[cfg(all(test, loom))] mod loom_tests`) and the `tests/loom_*.rs` integration tests.
# A separate target dir keeps the `--cfg loom` build from invalidating the normal one.
set -euo pipefail
cd "$(dirname "$0")/.."

export RUSTFLAGS="--cfg loom ${RUSTFLAGS:-}"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
export CARGO_TARGET_DIR="${CORIO_LOOM_TARGET_DIR:-target/loom}"

cargo test -p corio --release --lib loom

shopt -s nullglob
tests=()
for f in crates/corio/tests/loom_*.rs; do
  tests+=(--test "$(basename "$f" .rs)")
done
if ((${#tests[@]})); then
  cargo test -p corio --release "${tests[@]}"
fi
