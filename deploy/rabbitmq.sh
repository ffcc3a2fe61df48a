#!/usr/bin/env bash
# A RabbitMQ server for tests and single-box trials, without systemd:
#   deploy/rabbitmq.sh start   install from Debian packages if missing, start on 127.0.0.1,
#                              create vhost + user "switchboard"; prints the AMQP URL
#   deploy/rabbitmq.sh stop    stop it
#   deploy/rabbitmq.sh url     print the AMQP URL
# Everything (AMQP, epmd, Erlang distribution) listens on 127.0.0.1 only.
set -euo pipefail
PORT=${SB_AMQP_PORT:-5672}
URL="amqp://switchboard:switchboard@127.0.0.1:${PORT}/switchboard"
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT=$PORT
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"

ensure_installed() {
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    echo "Installing RabbitMQ from Debian packages..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq rabbitmq-server >/dev/null
  fi
}

running() { timeout 20 rabbitmqctl -q status >/dev/null 2>&1; }

start() {
  ensure_installed
  if ! running; then
    rabbitmq-server -detached >/dev/null 2>&1 || true
    # The node registers with epmd a little after -detached returns: poll (bounded).
    for _ in $(seq 1 60); do
      if timeout 20 rabbitmqctl -q await_startup >/dev/null 2>&1; then break; fi
      sleep 2
    done
    running || { echo "RabbitMQ did not start; see /var/log/rabbitmq/" >&2; exit 1; }
  fi
  rabbitmqctl -q add_vhost switchboard >/dev/null 2>&1 || true
  rabbitmqctl -q add_user switchboard switchboard >/dev/null 2>&1 || true
  rabbitmqctl -q set_permissions -p switchboard switchboard ".*" ".*" ".*" >/dev/null
  echo "$URL"
}

stop() {
  if command -v rabbitmqctl >/dev/null 2>&1; then timeout 60 rabbitmqctl -q stop >/dev/null 2>&1 || true; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
