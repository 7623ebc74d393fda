#!/usr/bin/env bash
# Runs CMD... with a throwaway Redis on a free loopback port, exported to it as
# WARDEN_REDIS_URL; the Redis is stopped (by its pid) when CMD exits.
#
#   scripts/with-redis.sh cargo test -p warden-policy --test redis
#
# Uses redis-server from PATH; installs the Debian package when it is missing and this
# runs as root. Persistence is off: nothing is written to disk.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 CMD [ARG...]" >&2
  exit 2
fi

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "with-redis: installing redis-server" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
  else
    echo "with-redis: redis-server is not installed (apt-get install redis-server)" >&2
    exit 1
  fi
fi

# A free port: bind to port 0, read what the kernel chose, release it.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

dir=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

for attempt in 1 2 3 4 5; do
  port=$(free_port)
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --dir "$dir" --daemonize no --logfile "$dir/redis.log" &
  pid=$!
  for _ in $(seq 1 50); do
    if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
      break 2
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  # Not up (the port was taken in between, or it died): try another port.
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
done

if [ -z "$pid" ]; then
  echo "with-redis: could not start redis-server; its log:" >&2
  cat "$dir/redis.log" >&2 || true
  exit 1
fi

export WARDEN_REDIS_URL="redis://127.0.0.1:$port"
echo "with-redis: $WARDEN_REDIS_URL (pid $pid)" >&2
set +e
"$@"
status=$?
set -e
exit "$status"
