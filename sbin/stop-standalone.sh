#!/usr/bin/env bash
# Stops the node started with the same configuration:
#   sbin/stop-standalone.sh [-c conf/duet.toml]
# SIGTERM (the node stops accepting, finishes requests, flushes), then
# SIGKILL if it has not exited after DUET_STOP_TIMEOUT seconds (default 30).
# Signals only the duet-server started with that configuration (checked in
# /proc), never a process that reused a stale pid.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_conf_flag "$@"

if [ ! -f "$DUET_PID_FILE" ]; then
  echo "not running (no $DUET_PID_FILE)"
  exit 0
fi
pid="$(cat "$DUET_PID_FILE")"
if ! kill -0 "$pid" 2>/dev/null; then
  echo "not running (stale pid $pid)"
  rm -f "$DUET_PID_FILE"
  exit 0
fi
if ! is_duet_node "$pid"; then
  echo "not running: pid $pid in $DUET_PID_FILE is another process now (the pid was reused); not signalled" >&2
  rm -f "$DUET_PID_FILE"
  exit 0
fi
kill -TERM "$pid"
timeout="${DUET_STOP_TIMEOUT:-30}"
for _ in $(seq 1 $((timeout * 10))); do
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$DUET_PID_FILE"
    echo "Duet node stopped (pid $pid)"
    exit 0
  fi
  sleep 0.1
done
# Still the node (not a pid reused meanwhile)? Then SIGKILL, and wait
# until it is gone: a caller restarts it next, and must not find the old
# one still holding the data directory.
if is_duet_node "$pid"; then
  echo "pid $pid still running after ${timeout}s; sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "pid $pid did not exit 10 s after SIGKILL" >&2
    exit 1
  fi
  echo "Duet node killed (pid $pid) after the ${timeout}s graceful stop ran out" >&2
fi
rm -f "$DUET_PID_FILE"
