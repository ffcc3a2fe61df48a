#!/usr/bin/env bash
# Login flood benchmark (issue 16), not a test: a demo node (release build, its own SQLite file
# in a temporary folder) on loopback, then `switchboard-login-flood` sends rounds of concurrent
# wrong logins and reports the node's resident memory before, at its peak and after, and its
# CPU time per attempt and per password actually checked. Bounded (rounds × concurrency,
# --max-seconds) and stops by itself; the node is killed on exit.
# Usage: benches/login_flood.sh [concurrency] [rounds] [debug]
set -euo pipefail
cd "$(dirname "$0")/.."

concurrency=${1:-96}
rounds=${2:-3}
profile=${3:-release}

if [ "$profile" = release ]; then
  cargo build --release -j2 --locked --bins >&2
  bin=${CARGO_TARGET_DIR:-target}/release
else
  cargo build -j2 --locked --bins >&2
  bin=${CARGO_TARGET_DIR:-target}/debug
fi
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin/switchboard" demo --port "$port" --database-url "sqlite://$dir/flood.db" >"$dir/node.log" 2>&1 &
node=$!
cleanup() { kill -9 "$node" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
for _ in $(seq 1 300); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
"$bin/switchboard-login-flood" --node "http://127.0.0.1:$port" --pid "$node" \
  --concurrency "$concurrency" --rounds "$rounds" --max-seconds 120
