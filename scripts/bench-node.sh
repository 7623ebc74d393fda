#!/usr/bin/env bash
# Node bench (bindings/node/bench): Warden vs casbin on the docs-app workload.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build -q --release --manifest-path bindings/Cargo.toml -p warden-node
cp "$CARGO_TARGET_DIR/release/libwarden_node.so" bindings/node/warden.node
(cd bindings/node && npm ci --no-audit --no-fund --silent && node bench/bench.js)
