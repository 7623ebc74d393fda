#!/usr/bin/env bash
# The Node binding: clippy, `cargo build --release` of the addon copied to
# bindings/node/warden.node, `npm ci` (express, smol-toml, casbin: test and bench
# packages, locked in package-lock.json), then `node --test` (incl. the replay of every
# examples/*.test.toml against `warden eval`). Needs node 18+, npm, cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
TARGET=$CARGO_TARGET_DIR

echo "== clippy (bindings workspace: host, node)"
# Not --all-targets: the addon has no test target, and under cfg(test) napi-derive
# registers nothing, so every export would look dead.
cargo clippy --release --manifest-path bindings/Cargo.toml -p warden-host -p warden-node -- -D warnings

echo "== addon"
cargo build -q --release --manifest-path bindings/Cargo.toml -p warden-node
cp "$TARGET/release/libwarden_node.so" bindings/node/warden.node

echo "== warden CLI (the Rust side of the replay)"
cargo build -q -p warden-cli
export WARDEN_BIN=$TARGET/debug/warden

echo "== npm ci"
(cd bindings/node && npm ci --no-audit --no-fund --silent)

echo "== node --test"
# Under a throwaway redis-server (WARDEN_REDIS_URL) for test/redis.test.js.
bash scripts/with-redis.sh bash -c 'cd bindings/node && node --test test/*.test.js'
