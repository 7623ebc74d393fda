#!/usr/bin/env bash
# Node host adapters vs the stacks the seeds use today (bindings/node/bench/hosts):
# requests/s with autocannon over loopback, Express, Hono and NestJS, each pair first
# checked to answer alike. Arguments go to bench.js: [seconds] [rounds] [connections]
# [frameworks...]. Builds the addon in release first (fat LTO, as shipped).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
(cd bindings/node && npm ci --no-audit --no-fund --silent --ignore-scripts && npm run -s build)
cd bindings/node/bench/hosts
# `warden-policy` is installed as a copy of bindings/node (.npmrc install-links), addon included.
npm ci --no-audit --no-fund --silent
node bench.js "$@"
