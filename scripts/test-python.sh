#!/usr/bin/env bash
# The Python binding: clippy, a fresh venv, the release wheel (`maturin build --release`,
# built once: scripts/test-packages.sh installs the same file outside the repository)
# installed into it, pytest (incl. the replay of every examples/*.test.toml against
# `warden eval`, the `warden` command the wheel installs, and the data filter's
# SQLAlchemy helper against SQLite and PostgreSQL). Fails on any failure, and on
# pytest's exit 5 (nothing collected).
# Needs python3 (3.10+) with venv, cargo, and the PyPI registry.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
TARGET=$CARGO_TARGET_DIR
VENV=${WARDEN_PY_VENV:-$TARGET/py-venv}

echo "== clippy (bindings workspace: host, python)"
cargo clippy --release --manifest-path bindings/Cargo.toml -p warden-host -p warden-python --all-targets -- -D warnings

echo "== cargo test -p warden-host"
cargo test -q --manifest-path bindings/Cargo.toml -p warden-host

echo "== warden CLI (the Rust side of the replay)"
# (scripts/test-all.sh builds it first and passes it in WARDEN_BIN: its target directory
# may be busy with the crates' publish check by then.)
if [ -z "${WARDEN_BIN:-}" ]; then
  cargo build -q --bin warden
  export WARDEN_BIN=$TARGET/debug/warden
fi

echo "== venv $VENV"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q -r bindings/python/requirements-dev.txt

echo "== wheel: maturin build --release (fat LTO: several minutes from scratch, cargo shows progress)"
WHEEL=$(bash scripts/build-wheel.sh "$VENV/bin/maturin")
"$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "$WHEEL"
# The wheel this suite tests is the one scripts/test-packages.sh installs: handed over in
# $TARGET/dist (only this build's wheel there).
mkdir -p "$TARGET/dist"
rm -f "$TARGET"/dist/warden_policy-*.whl
cp "$WHEEL" "$TARGET/dist/"

echo "== pytest"
# Exit 5 (no tests collected) is non-zero too, so `set -e` fails on it.
# Under throwaway Redis servers (WARDEN_REDIS_URL, a TLS one and a cluster) for
# tests/test_redis.py and a throwaway PostgreSQL (WARDEN_PG_URL) for
# tests/test_sqlalchemy.py; the FastAPI example app's suite (uvicorn on loopback) runs
# in the same venv.
bash scripts/with-redis.sh bash scripts/with-redis-tls.sh bash scripts/with-redis-cluster.sh \
  bash scripts/with-postgres.sh "$VENV/bin/python" -m pytest -q bindings/python/tests examples/apps/fastapi
