#!/usr/bin/env bash
# A private PostgreSQL server for tests and single-box trials, without systemd:
#   deploy/postgres.sh start   install from Debian packages if missing, init, start, create
#                              role + database "switchboard"; prints the connection URL
#   deploy/postgres.sh stop    stop it
#   deploy/postgres.sh url     print the connection URL
# Listens on 127.0.0.1 only. SB_PG_PORT (default 55432) and SB_PG_DIR (default
# /tmp/switchboard-pg) choose where. Production uses a managed server (docs/operations.md).
set -euo pipefail
PORT=${SB_PG_PORT:-55432}
DIR=${SB_PG_DIR:-/tmp/switchboard-pg}
URL="postgres://switchboard:switchboard@127.0.0.1:${PORT}/switchboard"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi
}

ensure_installed() {
  if [ -z "$(pg_bin)" ]; then
    echo "Installing PostgreSQL from Debian packages..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
  fi
}

start() {
  ensure_installed
  local bin; bin=$(pg_bin)
  mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres: "$DIR"
  if [ ! -f "$DIR/data/PG_VERSION" ]; then
    as_postgres "$bin/initdb -D '$DIR/data' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
  fi
  if ! as_postgres "$bin/pg_ctl -D '$DIR/data' status" >/dev/null 2>&1; then
    as_postgres "$bin/pg_ctl -D '$DIR/data' -l '$DIR/server.log' -w -t 60 \
      -o \"-p $PORT -k '$DIR' -c listen_addresses=127.0.0.1 -c max_connections=300\" start" >/dev/null
  fi
  local psql=(psql -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
  if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'switchboard'")" != 1 ]; then
    "${psql[@]}" -c "CREATE ROLE switchboard LOGIN PASSWORD 'switchboard' CREATEDB"
  fi
  if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'switchboard'")" != 1 ]; then
    "${psql[@]}" -c "CREATE DATABASE switchboard OWNER switchboard"
  fi
  echo "$URL"
}

stop() {
  local bin; bin=$(pg_bin)
  [ -n "$bin" ] && [ -f "$DIR/data/PG_VERSION" ] && as_postgres "$bin/pg_ctl -D '$DIR/data' -m fast stop" >/dev/null 2>&1 || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
