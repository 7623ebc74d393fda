# Helpers shared by the with-redis-*.sh scripts (sourced, not run).

# Installs redis-server (Debian package, as root) when it is missing.
need_redis_server() {
  local who=$1
  if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "$who: installing redis-server" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >&2
  else
    echo "$who: redis-server is not installed (apt-get install redis-server)" >&2
    exit 1
  fi
}

# A free port: bind to port 0, read what the kernel chose, release it.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

# The servers started so far (stopped by stop_pids, by pid).
pids=()

stop_pids() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
}

# wait_up PORT [REDIS-CLI ARGS...]: 0 once the server on PORT answers PING, 1 when the
# last started server died or 5 s passed.
wait_up() {
  local port=$1 last=${pids[${#pids[@]}-1]}
  shift
  for _ in $(seq 1 50); do
    if redis-cli -p "$port" "$@" ping 2>/dev/null | grep -q PONG; then
      return 0
    fi
    if ! kill -0 "$last" 2>/dev/null; then
      return 1
    fi
    sleep 0.1
  done
  return 1
}

# start_with_retries FN: runs `FN PORT` with fresh free ports until it succeeds (the
# port can be taken between choosing and binding); sets $port. FN must stop what it
# started when it fails.
start_with_retries() {
  local fn=$1
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    if "$fn" "$port"; then
      return 0
    fi
  done
  return 1
}

# Stops the last started server (a failed start).
stop_last() {
  local last=${pids[${#pids[@]}-1]}
  kill "$last" 2>/dev/null || true
  wait "$last" 2>/dev/null || true
  unset 'pids[${#pids[@]}-1]'
}
