#!/usr/bin/env bash
# Every test of the project, in the order a failure is cheapest to see.
# Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== cargo test"
cargo test --workspace

echo "== main job: the examples' policy tests"
cargo run -q -p warden-cli -- test examples/
