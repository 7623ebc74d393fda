#!/usr/bin/env bash
# Node bench (bindings/node/bench): Warden vs casbin on the docs-app workload.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cd bindings/node
npm ci --no-audit --no-fund --silent --ignore-scripts
npm run -s build # warden.<platform>.node, as scripts/test-node.sh builds it
node bench/bench.js
