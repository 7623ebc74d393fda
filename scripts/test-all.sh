#!/usr/bin/env bash
# Every test of the project, in the order a failure is cheapest to see.
# Exits non-zero on the first failure of a suite in the foreground; the jobs run in the
# background (the release CLI's build, the crates' publish check, the packages' suite)
# are waited for at the end, and any of them failing fails it too.
set -euo pipefail
cd "$(dirname "$0")/.."

# A one-shot build gains nothing from incremental state (gigabytes in target/debug).
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi

# Features off by default that CI builds, lints, documents and tests too (the same set
# for the three, so they share their builds): the policy-file watcher.
FEATURES="--features warden-policy/watch"

echo "== cargo fmt --check"
cargo fmt --all -- --check

# Background jobs, each with its log printed whole when it is waited for; any still
# running when this script exits (a suite failed) is stopped with it.
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/warden-test-all.XXXXXX")
background=()
stop_background() {
  local p
  for p in "${background[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  rm -rf "$LOGS"
}
trap stop_background EXIT
started() { background+=("$1"); }
finish() { # NAME PID: waits for the job, prints its log, returns its status
  local rc=0
  wait "$2" || rc=$?
  echo "== $1 (ran in the background; its output)"
  cat "$LOGS/$1.log"
  if [ "$rc" != 0 ]; then echo "test-all: $1 failed (exit $rc)" >&2; fi
  return "$rc"
}

# The release CLI that the README's `cargo install --locked --path cli` builds (run by
# scripts/test-packages.sh at the very end): the same build, started now at the lowest
# priority in a target directory of its own, takes the CPU the suites below leave idle
# (tests waiting on servers, single-threaded links) instead of running alone at the end;
# the install then finds it done.
export WARDEN_CLI_TARGET_DIR=$TARGET/cli-release
set -m
nice -n 19 cargo build --release --locked -q -p warden-policy-cli --target-dir "$WARDEN_CLI_TARGET_DIR" \
  > "$LOGS/release-cli.log" 2>&1 &
cli_pid=$!
set +m
started "$cli_pid"

echo "== cargo clippy"
cargo clippy --workspace --all-targets $FEATURES -- -D warnings

echo "== cargo doc (every warning denied: missing docs, broken or private links)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps $FEATURES

echo "== cargo test (throwaway Redis servers for the shared rate-limit store: plain, TLS, a 3-master cluster with replicas; PostgreSQL for the data-filter tests)"
bash scripts/with-redis.sh bash scripts/with-redis-tls.sh bash scripts/with-redis-cluster.sh \
  bash scripts/with-postgres.sh cargo test --workspace $FEATURES

echo "== policy tests: the examples (main job) and the seed apps' policies, failing on any grant, rule, route, limit or header no test exercises"
cargo run -q $FEATURES --bin warden -- test --fail-uncovered examples/ policies/
# The suites below take the CLI from here (the Python and Node replays).
export WARDEN_BIN=$TARGET/debug/warden

echo "== lint: the examples and the seed apps' policies are lint-clean (or justified)"
cargo run -q $FEATURES --bin warden -- lint examples/ policies/

echo "== editors: the VS Code extension's grammar (npm ci, vscode-tmgrammar-test)"
bash scripts/test-editors.sh

echo "== Python binding (venv, the release wheel built once, pytest; Redis tests under a throwaway Redis)"
bash scripts/test-python.sh

# The crates' publish check needs neither the wheel nor the addon: it runs while the
# addon builds (release, its own lock), niced, and is waited for at the end.
set -m
nice -n 10 bash scripts/test-packages.sh --publish-only > "$LOGS/crates.log" 2>&1 &
crates_pid=$!
set +m
started "$crates_pid"

echo "== Node binding (npm ci, napi build once, node --test)"
bash scripts/test-node.sh

# The last suites only read what the ones above built (the addon, the wheel, the debug
# build): the packages' suite (niced, so that the example apps' HTTP suites keep the
# CPU) runs side by side with the example apps. Every job is waited for and its output
# printed; any failing fails this script.
echo "== Packages as users get them (scripts/test-packages.sh: started now, its output after the example apps')"
set -m
nice -n 10 bash scripts/test-packages.sh --skip-publish > "$LOGS/packages.log" 2>&1 &
packages_pid=$!
set +m
started "$packages_pid"

echo "== Example apps (one npm workspace; each app's HTTP suite against it running on loopback)"
examples_rc=0
bash scripts/test-examples.sh || examples_rc=$?
if [ "$examples_rc" != 0 ]; then echo "test-all: scripts/test-examples.sh failed (exit $examples_rc)" >&2; fi

rc=0
finish release-cli "$cli_pid" || rc=1
finish crates "$crates_pid" || rc=1
finish packages "$packages_pid" || rc=1
[ "$examples_rc" = 0 ] && [ "$rc" = 0 ]
