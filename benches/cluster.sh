#!/usr/bin/env bash
# Cluster benchmark (issue 4), not a test. On this machine: PostgreSQL and RabbitMQ (started by
# deploy/postgres.sh and deploy/rabbitmq.sh), three release `serve` nodes on loopback, and
# switchboard-loadgen with simulated agents:
#   1. the raw RabbitMQ baseline (publish with confirm + consume with ack, same payload size,
#      same concurrency) and the routed rate, in the same run, as a ratio;
#   2. latency p50/p99 (customer send → ack, and → agent receipt) at 80 % of the saturating rate;
#   3. the standby dispatcher's take-over time after kill -9 of the active one.
# Everything is bounded (loadgen --max-seconds, bounded waits) and stops by itself; the nodes
# are killed on exit. Usage: benches/cluster.sh [customers] [messages] [agents]
set -euo pipefail
cd "$(dirname "$0")/.."

customers=${1:-48}
messages=${2:-25}
agents=${3:-8}

cargo build --release -j2 --locked --bins >&2
db=$(deploy/postgres.sh start)
amqp=$(deploy/rabbitmq.sh start)
run=$(date +%s)
name="sb_bench_${run}"
psql "$db" -qc "CREATE DATABASE ${name}" >&2
url="${db%/*}/${name}"
logs=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start_node() {
  local i=$1
  SWITCHBOARD_DATABASE_URL="$url" SWITCHBOARD_AMQP_URL="$amqp" \
  SWITCHBOARD_BUS__NAMESPACE="sbbench${run}" SWITCHBOARD_BUS__QUEUE_EXPIRES_MS=600000 \
  SWITCHBOARD_NODE_ID="node-$i" SWITCHBOARD_HTTP_PORT=$((18180 + i)) SWITCHBOARD_HTTP__HOST=127.0.0.1 \
  SWITCHBOARD_DEMO__LOAD_AGENTS="$agents" SWITCHBOARD_LIMITS__CUSTOMER_REFILL_MS=1 \
  SWITCHBOARD_LIMITS__CUSTOMER_BURST=100000 SWITCHBOARD_LOG__FILTER=warn,switchboard::actors::dispatcher=info \
    target/release/switchboard serve --demo-data >>"$logs/node-$i.log" 2>&1 &
  pids[$i]=$!
}

wait_ready() {
  local i=$1
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$((18180 + i))/readyz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "node-$i did not become ready; log in $logs" >&2
  return 1
}

for i in 1 2 3; do start_node "$i"; wait_ready "$i"; done
nodes="http://127.0.0.1:18181,http://127.0.0.1:18182,http://127.0.0.1:18183"

echo "== Throughput and latency (3 nodes, ${customers} customers x ${messages} messages, ${agents} agents)" >&2
target/release/switchboard-loadgen --nodes "$nodes" --customers "$customers" --messages "$messages" \
  --agents "$agents" --at-saturation-fraction 0.8 --amqp "$amqp" --max-seconds 120

echo "== Dispatcher take-over after kill -9 of the active node" >&2
active=""
for i in 1 2 3; do
  if grep -q "dispatcher is now active" "$logs/node-$i.log"; then active=$i; fi
done
if [ -z "$active" ]; then
  echo "no active dispatcher found in $logs" >&2
  exit 1
fi
before=$(cat "$logs"/node-*.log | grep -c "dispatcher is now active" || true)
killed_at=$(date +%s.%N)
kill -9 "${pids[$active]}"
took=""
for _ in $(seq 1 300); do
  now=$(cat "$logs"/node-*.log | grep -c "dispatcher is now active" || true)
  if [ "$now" -gt "$before" ]; then took=$(awk "BEGIN{printf \"%.2f\", $(date +%s.%N) - $killed_at}"); break; fi
  sleep 0.05
done
echo "{\"killed_node\": \"node-${active}\", \"takeover_s\": ${took:-null}}"
