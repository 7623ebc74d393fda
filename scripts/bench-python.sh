#!/usr/bin/env bash
# Python bench (bindings/python/bench): Warden vs cedarpy and pycasbin on the docs-app
# workload. Builds the module in release into the venv of scripts/test-python.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
VENV=${WARDEN_PY_VENV:-$CARGO_TARGET_DIR/py-venv}
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q -r bindings/python/requirements-dev.txt -r bindings/python/bench/requirements.txt
(cd bindings/python && VIRTUAL_ENV=$VENV PATH=$VENV/bin:$PATH maturin develop --release -q)
"$VENV/bin/python" bindings/python/bench/bench.py
# FastAPI + Warden vs CORSMiddleware + slowapi + PyJWT + roles + headers, under uvicorn,
# requests/s by wrk (same answers asserted first).
command -v wrk >/dev/null || { echo "bench-python.sh: wrk is required (apt-get install wrk)" >&2; exit 1; }
"$VENV/bin/python" bindings/python/bench/http_stack.py
