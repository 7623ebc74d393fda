#!/usr/bin/env bash
# Every test of the project, in the order a failure is cheapest to see.
# Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== cargo doc (every warning denied: missing docs, broken or private links)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

echo "== cargo test (throwaway Redis servers for the shared rate-limit store: plain, TLS, a 3-master cluster with replicas; PostgreSQL for the data-filter tests)"
bash scripts/with-redis.sh bash scripts/with-redis-tls.sh bash scripts/with-redis-cluster.sh \
  bash scripts/with-postgres.sh cargo test --workspace

echo "== policy tests: the examples (main job) and the seed apps' policies"
cargo run -q --bin warden -- test examples/ policies/

echo "== lint: the examples and the seed apps' policies are lint-clean (or justified)"
cargo run -q --bin warden -- lint examples/ policies/

echo "== editors: the VS Code extension's grammar (npm ci, vscode-tmgrammar-test)"
bash scripts/test-editors.sh

echo "== Python binding (venv, the release wheel built once, pytest; Redis tests under a throwaway Redis)"
bash scripts/test-python.sh

echo "== Node binding (npm ci, napi build once, node --test)"
bash scripts/test-node.sh

echo "== Example apps (one npm workspace; each app's HTTP suite against it running on loopback)"
bash scripts/test-examples.sh
