#!/usr/bin/env bash
# Run a command with MICROCRED_TEST_POSTGRES_URL pointing at a PostgreSQL server.
# If none is configured, start a throwaway server (Debian's postgresql) in a temporary
# directory on a free loopback port, and remove it afterwards.
set -euo pipefail
if [ -n "${MICROCRED_TEST_POSTGRES_URL:-}" ]; then
  exec "$@"
fi
initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$initdb" ]; then
  echo "with-postgres: PostgreSQL is not installed; PostgreSQL tests will be skipped." >&2
  exec "$@"
fi
bindir=$(dirname "$initdb")
tmp=$(mktemp -d /tmp/microcred-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
  chown postgres "$tmp"
  as_pg=(runuser -u postgres --)
fi
cleanup() {
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
"${as_pg[@]}" "$initdb" -D "$tmp/data" -U postgres --auth=trust -E UTF8 >/dev/null
"${as_pg[@]}" "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null
"${as_pg[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres microcred_test
export MICROCRED_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/microcred_test"
echo "with-postgres: throwaway PostgreSQL on 127.0.0.1:$port"
set +e
"$@"
status=$?
exit $status
