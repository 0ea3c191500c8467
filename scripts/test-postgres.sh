#!/usr/bin/env bash
# Run a command with a throw-away PostgreSQL + PostGIS cluster on 127.0.0.1.
#
# Usage: scripts/test-postgres.sh COMMAND [ARGS...]
# Installs PostgreSQL and PostGIS from Debian when they are missing (needs root and apt-get),
# starts a fresh cluster in a temporary folder as the 'postgres' user (initdb refuses root),
# exports MASTPLAN_TEST_POSTGRES_URL for the command, and removes the cluster afterwards.
# If MASTPLAN_TEST_POSTGRES_URL is already set, the command runs against that server instead.
set -euo pipefail

if [ -n "${MASTPLAN_TEST_POSTGRES_URL:-}" ]; then
  exec "$@"
fi

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "test-postgres: need $* but cannot install them (not root or no apt-get)." >&2
    echo "test-postgres: install PostgreSQL and PostGIS, or set MASTPLAN_TEST_POSTGRES_URL." >&2
    exit 1
  fi
  if [ -z "${_APT_UPDATED:-}" ]; then
    apt-get update -qq >/dev/null
    _APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

BIN=$(pg_bindir || true)
if [ -z "$BIN" ]; then
  echo "test-postgres: installing PostgreSQL from Debian" >&2
  apt_install postgresql
  BIN=$(pg_bindir)
fi
PGMAJOR=$(basename "$(dirname "$BIN")")
if [ ! -f "/usr/share/postgresql/$PGMAJOR/extension/postgis.control" ]; then
  echo "test-postgres: installing PostGIS for PostgreSQL $PGMAJOR from Debian" >&2
  apt_install "postgresql-$PGMAJOR-postgis-3"
fi

RUN_AS=()
if [ "$(id -u)" = 0 ]; then
  RUN_AS=(runuser -u postgres --)
fi
WORK=$(mktemp -d /tmp/mastplan-pg.XXXXXX)
chmod 755 "$WORK"
[ "$(id -u)" = 0 ] && chown postgres "$WORK"
PORT=${MASTPLAN_TEST_POSTGRES_PORT:-$(( 20000 + RANDOM % 20000 ))}

cleanup() {
  "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"${RUN_AS[@]}" "$BIN/initdb" -D "$WORK/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${RUN_AS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w \
  -o "-h 127.0.0.1 -p $PORT -k $WORK -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
"$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -q -c "CREATE DATABASE mastplan_test" >/dev/null

export MASTPLAN_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/mastplan_test"
echo "test-postgres: PostgreSQL $PGMAJOR + PostGIS on 127.0.0.1:$PORT" >&2
"$@"
