#!/usr/bin/env bash
# Runs CMD... with a throwaway PostgreSQL on a free loopback port, exported to it as
# WARDEN_PG_URL; the server and its data directory are removed when CMD exits.
#
#   scripts/with-postgres.sh cargo test -p warden --test filter_postgres
#
# Uses the newest /usr/lib/postgresql/*/bin (Debian's layout) or initdb from PATH;
# installs the Debian package when it is missing and this runs as root. As root, the
# server runs as the `postgres` user (initdb refuses root). fsync is off: the data is
# thrown away.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 CMD [ARG...]" >&2
  exit 2
fi

find_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then
    echo "$d"
  elif command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  fi
}

bin=$(find_bin)
if [ -z "$bin" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "with-postgres: installing postgresql" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    bin=$(find_bin)
  fi
  if [ -z "$bin" ]; then
    echo "with-postgres: PostgreSQL is not installed (apt-get install postgresql)" >&2
    exit 1
  fi
fi

# As root, run the server as `postgres`; otherwise as ourselves.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

dir=$(mktemp -d)
chmod 755 "$dir"
if [ "$(id -u)" = 0 ]; then
  chown postgres "$dir"
fi
started=""
cleanup() {
  if [ -n "$started" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

as_owner "$bin/initdb" -D "$dir/data" -U warden --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || as_owner "$bin/initdb" -D "$dir/data" -U warden --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
  || { echo "with-postgres: initdb failed:" >&2; cat "$dir/initdb.log" >&2; exit 1; }

for attempt in 1 2 3 4 5; do
  port=$(free_port)
  if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null 2>&1; then
    started=1
    break
  fi
done

if [ -z "$started" ]; then
  echo "with-postgres: could not start PostgreSQL; its log:" >&2
  cat "$dir/server.log" >&2 || true
  exit 1
fi

export WARDEN_PG_URL="host=127.0.0.1 port=$port user=warden dbname=postgres"
echo "with-postgres: $WARDEN_PG_URL" >&2
set +e
"$@"
status=$?
set -e
exit "$status"
