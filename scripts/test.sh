#!/usr/bin/env bash
# `npm test`: every test of the project — Rust (workspace), the loom models, then the TS suite.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test --workspace"
cargo test --workspace

echo "== loom"
bash scripts/test-loom.sh

echo "== ava (TypeScript)"
npx ava
