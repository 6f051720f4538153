#!/usr/bin/env bash
# `npm run check:targets`: type-checks the core and the binding (every target: lib, tests,
# examples, benches) for each platform of the release matrix, from this machine, so a
# platform-only compile error (a Unix-only API used without a `cfg`, say) shows up before the
# matrix build on that platform does. Checks only the targets rustup has installed and names the
# others (`rustup target add <target>` installs one; CI.yml's `check-targets` job adds them all).
# Nothing is linked or run: platform behaviour is for the matrix tests.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(
  x86_64-unknown-linux-gnu
  x86_64-unknown-linux-musl
  aarch64-unknown-linux-gnu
  aarch64-unknown-linux-musl
  x86_64-apple-darwin
  aarch64-apple-darwin
  x86_64-pc-windows-msvc
)
installed="$(rustup target list --installed 2>/dev/null || true)"
skipped=()
for t in "${targets[@]}"; do
  if ! grep -qx "$t" <<<"$installed"; then
    skipped+=("$t")
    continue
  fi
  echo "== cargo check --target $t"
  cargo check --quiet -p corio -p corio-node --all-targets --target "$t"
done
if [ "${#skipped[@]}" -gt 0 ]; then
  echo "not installed, not checked: ${skipped[*]}"
fi
