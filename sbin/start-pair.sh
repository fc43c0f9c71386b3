#!/usr/bin/env bash
# Starts a dual-active pair on this machine: sbin/start-pair.sh
#   node A from conf/pair-a.toml (rpc 127.0.0.1:6667), node B from
#   conf/pair-b.toml (rpc 127.0.0.1:6668), each with sbin/start-standalone.sh;
#   then pipe AB on A (-> B) and pipe BA on B (-> A), both double-living, and
#   waits until SHOW PIPES says RUNNING on both nodes.
# Safe to run again: a node that is already running is left alone and
# CREATE PIPE IF NOT EXISTS keeps existing pipes. Stop with sbin/stop-pair.sh.
# DUET_PIPE_TIMEOUT (seconds, default 30) bounds the wait for RUNNING.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
[ $# -eq 0 ] || { echo "usage: $(basename "$0") (no arguments)" >&2; exit 2; }

CONF_A="$DUET_HOME/conf/pair-a.toml"
CONF_B="$DUET_HOME/conf/pair-b.toml"

# rpc_port FILE: the [rpc] port of a configuration (6667 when not set).
rpc_port() {
  awk '/^\[/ { s = $0 } s == "[rpc]" && $1 == "port" { print $3; found = 1; exit }
       END { if (!found) print 6667 }' "$1"
}
PORT_A="$(rpc_port "$CONF_A")"
PORT_B="$(rpc_port "$CONF_B")"

# start_node CONF: starts the node unless its pid file names a live process.
start_node() {
  parse_conf_flag -c "$1"
  if [ -f "$DUET_PID_FILE" ] && kill -0 "$(cat "$DUET_PID_FILE")" 2>/dev/null; then
    echo "$(basename "$1" .toml) is already running (pid $(cat "$DUET_PID_FILE")); keeping it"
    return 0
  fi
  "$DUET_HOME/sbin/start-standalone.sh" -c "$1"
}

cli() { "$DUET_HOME/sbin/start-cli.sh" -h 127.0.0.1 -u root -pw root "$@"; }

# create_pipe NAME FROM_PORT TO_PORT
create_pipe() {
  cli -p "$2" -e "create pipe IF NOT EXISTS $1 \
with source ('source.mode.double-living'='true') \
with sink ('sink'='iotdb-thrift-sink', 'sink.ip'='127.0.0.1', 'sink.port'='$3')" >/dev/null
}

# pipe_running NAME PORT: whether SHOW PIPES on that node lists NAME as RUNNING
# (the CLI draws tables with '│'; '|' is accepted too).
pipe_running() {
  cli -p "$2" -e "show pipes" 2>/dev/null | grep -E "^(│|\|) *$1 (│|\|)" | grep RUNNING >/dev/null
}

start_node "$CONF_A"
start_node "$CONF_B"
create_pipe AB "$PORT_A" "$PORT_B"
create_pipe BA "$PORT_B" "$PORT_A"

timeout="${DUET_PIPE_TIMEOUT:-30}"
deadline=$((SECONDS + timeout))
until pipe_running AB "$PORT_A" && pipe_running BA "$PORT_B"; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "error: pipes not RUNNING after ${timeout}s. SHOW PIPES on A (:$PORT_A), then B (:$PORT_B):" >&2
    cli -p "$PORT_A" -e "show pipes" >&2 || true
    cli -p "$PORT_B" -e "show pipes" >&2 || true
    echo "A stopped pipe is started with: sbin/start-cli.sh -p PORT -e 'start pipe NAME'" >&2
    exit 1
  fi
  sleep 0.2
done

cat <<EOF
Duet pair running: pipe AB (A -> B) and BA (B -> A) are RUNNING.
  node A: sbin/start-cli.sh -h 127.0.0.1 -p $PORT_A
  node B: sbin/start-cli.sh -h 127.0.0.1 -p $PORT_B
  either, with failover: sbin/start-cli.sh -h 127.0.0.1:$PORT_A,127.0.0.1:$PORT_B
  logs: logs/pair-a.log, logs/pair-b.log
  stop: sbin/stop-pair.sh
EOF
