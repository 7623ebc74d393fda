#!/usr/bin/env bash
# Redis Cluster: limit checks per second with 1 and with 3 masters (no replicas), from
# two client processes side by side (two app instances sharing one budget store), each
# running WARDEN_LOAD_TASKS concurrent checks for WARDEN_LOAD_SECS seconds
# (core/benches/redis_cluster.rs). Prints each process's line of JSON and the sum.
# Figures: docs/BENCHMARKS.md, "Redis Cluster: 1 vs 3 masters".
#
#   scripts/bench-redis-cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo bench -p warden-policy --bench redis_cluster --no-run
bin=$(ls -t "${CARGO_TARGET_DIR:-target}"/release/deps/redis_cluster-* | grep -v "\.d$" | head -1)

# CPU seconds used so far by the cluster's servers and by the two clients: on a small
# machine they share the cores, which is what bounds the figures (docs/BENCHMARKS.md).
cpu_of() { # PID...: user + system seconds
  local t=0 p
  for p in "$@"; do
    if [ -r "/proc/$p/stat" ]; then t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); fi
  done
  echo "$t"
}
export -f cpu_of

run_pair() { # run by scripts/with-redis-cluster.sh: two processes, then their sum
  local out a b servers before
  out=$(mktemp)
  servers=""
  for url in ${WARDEN_REDIS_CLUSTER_URLS//,/ }; do
    servers="$servers $(pgrep -f "redis-server .*:${url##*:}" || true)"
  done
  # shellcheck disable=SC2086
  before=$(cpu_of $servers)
  WARDEN_LOAD_OFFSET=1 "$bin" > "$out.1" &
  a=$!
  WARDEN_LOAD_OFFSET=2 "$bin" > "$out.2" &
  b=$!
  wait "$a"
  wait "$b"
  # shellcheck disable=SC2086
  echo "redis-server CPU: $(( ($(cpu_of $servers) - before) / $(getconf CLK_TCK) )) s over the run, $(nproc) cores"
  cat "$out.1" "$out.2"
  python3 - "$out.1" "$out.2" <<'PY'
import json, sys
rows = [json.loads(open(p).read()) for p in sys.argv[1:]]
print(f"sum: {sum(r['checks_per_s'] for r in rows):.0f} checks/s, errors {sum(r['errors'] for r in rows)}")
PY
  rm -f "$out" "$out.1" "$out.2"
}
export -f run_pair
export bin

for masters in 1 3; do
  echo "== $masters master(s)"
  WARDEN_CLUSTER_MASTERS=$masters WARDEN_CLUSTER_REPLICAS=0 \
    bash scripts/with-redis-cluster.sh bash -c run_pair
done
