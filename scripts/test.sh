#!/usr/bin/env bash
# `npm test`: every test of the project — Rust (workspace), the loom models, the TS suite
# (unit, fault and property tests), then a 60-second load-and-soak run (docs/reliability.md).
# CORIO_SOAK_SECONDS=0 skips the soak; any other value sets its duration.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test --workspace"
cargo test --workspace

echo "== loom"
bash scripts/test-loom.sh

echo "== ava (TypeScript)"
npx ava

soak="${CORIO_SOAK_SECONDS:-60}"
if [ "$soak" != "0" ]; then
  echo "== soak (${soak} s)"
  npx tsx bench/soak/soak.ts --duration "$soak"
fi
