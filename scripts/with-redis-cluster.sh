#!/usr/bin/env bash
# Runs CMD... with a throwaway Redis Cluster on loopback: WARDEN_CLUSTER_MASTERS masters
# (default 3) holding the 16384 slots in equal ranges, each with WARDEN_CLUSTER_REPLICAS
# replicas (default 1), a node timeout of 1 s (a failed master's replica takes over
# within about 2 s). Exported to CMD:
#
#   WARDEN_REDIS_CLUSTER_URLS  the masters as seed URLs, comma-separated
#                              (redis://127.0.0.1:P1,redis://127.0.0.1:P2,...)
#
# Every node is stopped (by its pid) when CMD exits. The cluster is built with CLUSTER
# MEET / ADDSLOTSRANGE / REPLICATE rather than `redis-cli --cluster create`, which
# refuses fewer than 3 masters (the 1-master cluster is the benchmark's baseline).
#
#   scripts/with-redis-cluster.sh cargo test -p warden-policy --test redis_cluster
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 CMD [ARG...]" >&2
  exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/redis-common.sh
. "$here/redis-common.sh"
need_redis_server with-redis-cluster

masters=${WARDEN_CLUSTER_MASTERS:-3}
replicas=${WARDEN_CLUSTER_REPLICAS:-1}
dir=$(mktemp -d)
trap 'stop_pids; rm -rf "$dir"' EXIT INT TERM

ports=()
bus_ports=()
start_node() {
  local port=$1 bus
  bus=$(free_port)
  mkdir -p "$dir/$port"
  redis-server --bind 127.0.0.1 --port "$port" --cluster-enabled yes \
    --cluster-port "$bus" --cluster-config-file "$dir/$port/nodes.conf" \
    --cluster-node-timeout 1000 --repl-diskless-sync-delay 0 --save "" --appendonly no \
    --dir "$dir/$port" --daemonize no --logfile "$dir/$port/redis.log" &
  pids+=($!)
  wait_up "$port" || {
    stop_last
    return 1
  }
  ports+=("$port")
  bus_ports+=("$bus")
}

fail() {
  echo "with-redis-cluster: $1; the nodes' logs:" >&2
  tail -n 20 "$dir"/*/redis.log >&2 || true
  exit 1
}

total=$((masters * (1 + replicas)))
for _ in $(seq 1 "$total"); do
  start_with_retries start_node || fail "could not start a node"
done

cli() {
  local port=$1
  shift
  redis-cli -p "$port" "$@"
}

# Every node meets the first one; gossip does the rest.
for i in $(seq 1 $((total - 1))); do
  cli "${ports[$i]}" cluster meet 127.0.0.1 "${ports[0]}" "${bus_ports[0]}" >/dev/null
done

# Masters 0..masters-1 get equal slot ranges.
for m in $(seq 0 $((masters - 1))); do
  first=$((m * 16384 / masters))
  last=$(((m + 1) * 16384 / masters - 1))
  cli "${ports[$m]}" cluster addslotsrange "$first" "$last" >/dev/null
done

# Every node must know every other before a replica can name its master.
for _ in $(seq 1 100); do
  known=0
  for p in "${ports[@]}"; do
    n=$(cli "$p" cluster nodes | grep -vc handshake || true)
    [ "$n" -eq "$total" ] && known=$((known + 1))
  done
  [ "$known" -eq "$total" ] && break
  sleep 0.1
done
[ "$known" -eq "$total" ] || fail "the nodes did not all meet"

for r in $(seq "$masters" $((total - 1))); do
  m=$(((r - masters) % masters))
  id=$(cli "${ports[$m]}" cluster myid)
  cli "${ports[$r]}" cluster replicate "$id" >/dev/null
done

# Up when every node says the cluster is ok and every replica is in sync.
for _ in $(seq 1 200); do
  ok=0
  for i in $(seq 0 $((total - 1))); do
    info=$(cli "${ports[$i]}" cluster info)
    echo "$info" | grep -q 'cluster_state:ok' || continue
    if [ "$i" -ge "$masters" ]; then
      cli "${ports[$i]}" info replication | grep -q 'master_link_status:up' || continue
    fi
    ok=$((ok + 1))
  done
  [ "$ok" -eq "$total" ] && break
  sleep 0.1
done
[ "$ok" -eq "$total" ] || fail "the cluster did not come up"

urls=""
for m in $(seq 0 $((masters - 1))); do
  urls="${urls:+$urls,}redis://127.0.0.1:${ports[$m]}"
done
export WARDEN_REDIS_CLUSTER_URLS="$urls"
echo "with-redis-cluster: $masters masters x $replicas replicas, seeds $WARDEN_REDIS_CLUSTER_URLS" >&2
set +e
"$@"
status=$?
set -e
exit "$status"
