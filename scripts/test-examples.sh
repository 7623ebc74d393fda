#!/usr/bin/env bash
# The example apps (examples/apps/*, one per Node seed, each in its own framework):
# one npm workspace, so one lockfile and one `npm ci`; each app is built once (tsc)
# and its HTTP suite runs against the app started as its own process on loopback.
# Reuses the addon scripts/test-node.sh built (bindings/node/warden.node): the
# workspace installs bindings/node as a copy (examples/apps/.npmrc `install-links`).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f bindings/node/warden.node ]; then
  echo "bindings/node/warden.node is missing: run scripts/test-node.sh first" >&2
  exit 1
fi

cd examples/apps
export NEXT_TELEMETRY_DISABLED=1
echo "== npm ci (examples/apps workspace)"
npm ci --no-audit --no-fund --silent
echo "== build"
npm run build --silent
echo "== HTTP suites"
npm test
