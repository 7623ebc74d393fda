#!/usr/bin/env bash
# Runs CMD... with a throwaway TLS-only Redis on a free loopback port, its certificate
# signed by a CA generated here for this run:
#
#   WARDEN_REDIS_TLS_URL       rediss://127.0.0.1:PORT
#   WARDEN_REDIS_TLS_CA        the CA that signed the server's certificate (PEM)
#   WARDEN_REDIS_TLS_WRONG_CA  another CA, which did not (for the verification failure)
#
# The server's certificate names only IP 127.0.0.1, so `rediss://localhost:PORT` fails
# host-name verification. Redis is stopped (by its pid) when CMD exits.
#
#   scripts/with-redis-tls.sh cargo test -p warden-policy --test redis_tls
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 CMD [ARG...]" >&2
  exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/redis-common.sh
. "$here/redis-common.sh"
need_redis_server with-redis-tls
if ! command -v openssl >/dev/null 2>&1; then
  echo "with-redis-tls: openssl is not installed" >&2
  exit 1
fi

dir=$(mktemp -d)
trap 'stop_pids; rm -rf "$dir"' EXIT INT TERM

# Two CAs and a server certificate from the first; EC keys are quick to make.
make_ca() {
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$dir/$1.key" -out "$dir/$1.pem" -days 2 -subj "/CN=warden test $1" \
    2>/dev/null
}
make_ca ca
make_ca wrong-ca
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
  -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=warden test redis" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
  -CAcreateserial -out "$dir/server.pem" -days 2 -extfile "$dir/server.ext" 2>/dev/null

start_one() {
  local port=$1
  redis-server --bind 127.0.0.1 --port 0 --tls-port "$port" \
    --tls-cert-file "$dir/server.pem" --tls-key-file "$dir/server.key" \
    --tls-ca-cert-file "$dir/ca.pem" --tls-auth-clients no \
    --save "" --appendonly no --dir "$dir" --daemonize no --logfile "$dir/redis.log" &
  pids+=($!)
  wait_up "$port" --tls --cacert "$dir/ca.pem" || {
    stop_last
    return 1
  }
}

start_with_retries start_one || {
  echo "with-redis-tls: could not start redis-server; its log:" >&2
  cat "$dir/redis.log" >&2 || true
  exit 1
}

export WARDEN_REDIS_TLS_URL="rediss://127.0.0.1:$port"
export WARDEN_REDIS_TLS_CA="$dir/ca.pem"
export WARDEN_REDIS_TLS_WRONG_CA="$dir/wrong-ca.pem"
echo "with-redis-tls: $WARDEN_REDIS_TLS_URL (CA $WARDEN_REDIS_TLS_CA)" >&2
set +e
"$@"
status=$?
set -e
exit "$status"
