#!/usr/bin/env bash
# Every test of the project, in the order a failure is cheapest to see.
# Exits non-zero on the first failure (the last two suites, run side by side, both end first).
set -euo pipefail
cd "$(dirname "$0")/.."

# A one-shot build gains nothing from incremental state (gigabytes in target/debug).
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== cargo doc (every warning denied: missing docs, broken or private links)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

echo "== cargo test (throwaway Redis servers for the shared rate-limit store: plain, TLS, a 3-master cluster with replicas; PostgreSQL for the data-filter tests)"
bash scripts/with-redis.sh bash scripts/with-redis-tls.sh bash scripts/with-redis-cluster.sh \
  bash scripts/with-postgres.sh cargo test --workspace

echo "== policy tests: the examples (main job) and the seed apps' policies, failing on any grant, rule, route, limit or header no test exercises"
cargo run -q --bin warden -- test --fail-uncovered examples/ policies/

echo "== lint: the examples and the seed apps' policies are lint-clean (or justified)"
cargo run -q --bin warden -- lint examples/ policies/

echo "== editors: the VS Code extension's grammar (npm ci, vscode-tmgrammar-test)"
bash scripts/test-editors.sh

echo "== Python binding (venv, the release wheel built once, pytest; Redis tests under a throwaway Redis)"
bash scripts/test-python.sh

echo "== Node binding (npm ci, napi build once, node --test)"
bash scripts/test-node.sh

# The last two suites only read what the ones above built (the addon, the wheel, the
# debug build): they run side by side, the packages' suite niced so that the example
# apps' HTTP suites keep the CPU, and its output held in a log printed whole when both
# have ended. Either failing fails this script.
echo "== Packages as users get them (scripts/test-packages.sh: started now, its output after the example apps')"
PACKAGES_LOG=$(mktemp "${TMPDIR:-/tmp}/warden-test-packages.XXXXXX")
nice -n 10 bash scripts/test-packages.sh > "$PACKAGES_LOG" 2>&1 &
packages_pid=$!

echo "== Example apps (one npm workspace; each app's HTTP suite against it running on loopback)"
examples_rc=0
bash scripts/test-examples.sh || examples_rc=$?

packages_rc=0
wait "$packages_pid" || packages_rc=$?
echo "== Packages as users get them (scripts/test-packages.sh: the cargo crates, the wheel, the sdist, the npm packages, the README's getting started)"
cat "$PACKAGES_LOG"
rm -f "$PACKAGES_LOG"
if [ "$examples_rc" != 0 ]; then echo "test-all: scripts/test-examples.sh failed (exit $examples_rc)" >&2; fi
if [ "$packages_rc" != 0 ]; then echo "test-all: scripts/test-packages.sh failed (exit $packages_rc)" >&2; fi
[ "$examples_rc" = 0 ] && [ "$packages_rc" = 0 ]
