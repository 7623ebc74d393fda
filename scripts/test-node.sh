#!/usr/bin/env bash
# The Node binding: clippy, `npm ci` (@napi-rs/cli, and express, smol-toml, casbin: test
# and bench packages, locked in package-lock.json), the addon built once by
# `napi build --platform --release` (bindings/node/warden.<platform>.node, the file
# scripts/test-packages.sh packs; on Linux x86-64 linked against glibc 2.17 by
# cargo-zigbuild from PyPI, scripts/zig-requirements.txt), then `node --test` (incl. the replay of every
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

echo "== npm ci"
# --ignore-scripts: the package's install script would build the addon itself when it
# finds none; here it is built next, explicitly.
(cd bindings/node && npm ci --no-audit --no-fund --silent --ignore-scripts)

if [ "$(uname -sm)" = "Linux x86_64" ]; then
  # The prebuilt linux-x64-gnu addon must load on old distributions too (napi-rs's
  # floor, glibc 2.17): linked by cargo-zigbuild against glibc 2.17's symbols, not this
  # host's. scripts/test-packages.sh checks the floor with objdump.
  ZIGVENV=$TARGET/zig-venv
  if [ ! -x "$ZIGVENV/bin/cargo-zigbuild" ]; then
    python3 -m venv "$ZIGVENV"
    "$ZIGVENV/bin/python" -m pip install -q --disable-pip-version-check -r scripts/zig-requirements.txt
  fi
  echo "== addon: napi build --platform --release -x (cargo-zigbuild, glibc 2.17; fat LTO: several minutes from scratch)"
  (cd bindings/node && PATH=$ZIGVENV/bin:$PATH npm run -s build -- -x --target x86_64-unknown-linux-gnu.2.17)
else
  echo "== addon: napi build --platform --release (fat LTO: several minutes from scratch)"
  (cd bindings/node && npm run -s build)
fi

echo "== warden CLI (the Rust side of the replay)"
# (scripts/test-all.sh builds it first and passes it in WARDEN_BIN: its target directory
# may be busy with the crates' publish check by then.)
if [ -z "${WARDEN_BIN:-}" ]; then
  cargo build -q --bin warden
  export WARDEN_BIN=$TARGET/debug/warden
fi

echo "== node --test"
# Under a throwaway redis-server (WARDEN_REDIS_URL) for test/redis.test.js.
bash scripts/with-redis.sh bash scripts/with-redis-tls.sh bash scripts/with-redis-cluster.sh \
  bash -c 'cd bindings/node && node --test test/*.test.js'
