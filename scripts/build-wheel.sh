#!/usr/bin/env bash
# Builds the Python wheel in release into $CARGO_TARGET_DIR/wheels (once: a second call
# finds cargo's build up to date and only repacks) and prints its path. The one wheel
# scripts/test-python.sh tests and scripts/test-packages.sh installs.
# Usage: scripts/build-wheel.sh MATURIN
set -euo pipefail
cd "$(dirname "$0")/.."
MATURIN=${1:?usage: scripts/build-wheel.sh MATURIN}
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
OUT=$TARGET/wheels
# A target directory of its own: `napi build` (scripts/test-node.sh) builds for the same
# target triple without zig's compiler wrappers, and in one shared directory each build
# would find the other's C dependencies (ring) stale and rebuild everything after them.
export CARGO_TARGET_DIR=$TARGET/wheel-build
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' bindings/Cargo.toml | head -1)
# The interpreter only names the ABI floor of an abi3 wheel: any CPython 3.10+ will do.
# --zig: zig links against glibc 2.28's symbols, so the wheel is manylinux_2_28 (the
# pyproject's `compatibility`) whatever glibc the build host has; maturin checks it.
# `ziglang` must be installed next to maturin (bindings/python/requirements-dev.txt).
(cd bindings/python && PATH=$(dirname "$MATURIN"):$PATH "$MATURIN" build --release --zig --out "$OUT" -i python3 >&2)
WHEEL=$(ls -t "$OUT"/warden_policy-"$VERSION"-cp310-abi3-*.whl | head -1)
echo "$WHEEL"
