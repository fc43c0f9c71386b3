#!/usr/bin/env bash
# Starts one Duet node in the background: sbin/start-standalone.sh [-c conf/duet.toml]
# Builds duet-server on first use, writes logs/<conf>.log and run/<conf>.pid,
# waits until the node answers, then prints where it listens. Relative paths
# in the configuration (data_dir) are relative to the project root.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_conf_flag "$@"

if [ -f "$DUET_PID_FILE" ] && is_duet_node "$(cat "$DUET_PID_FILE")"; then
  echo "already running: pid $(cat "$DUET_PID_FILE") ($DUET_PID_FILE)" >&2
  exit 1
fi
server="$(duet_bin duet-server)"
mkdir -p "$DUET_HOME/run" "$DUET_HOME/logs"
cd "$DUET_HOME"
# The log is appended to (the last run's lines, a crash's reason among
# them, stay; conf/logrotate/duet rotates it): this start's lines begin
# after what is there now.
touch "$DUET_LOG_FILE"
log_from=$(( $(stat -c %s "$DUET_LOG_FILE") + 1 ))
echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) sbin/start-standalone.sh: starting $server --config $DUET_CONF" >>"$DUET_LOG_FILE"
nohup "$server" --config "$DUET_CONF" >>"$DUET_LOG_FILE" 2>&1 </dev/null &
pid=$!
echo "$pid" > "$DUET_PID_FILE"

for _ in $(seq 1 600); do
  if ready="$(tail -c "+$log_from" "$DUET_LOG_FILE" 2>/dev/null | grep -m1 '^READY ')"; then
    rpc="$(sed -n 's/.*rpc=\([^ ]*\).*/\1/p' <<<"$ready")"
    http="$(sed -n 's/.*http=\([^ ]*\).*/\1/p' <<<"$ready")"
    # /ready: up and serving (/health may say 503 while writes would wait).
    if curl -fsS "http://127.0.0.1:${http##*:}/ready" >/dev/null 2>&1 || ! command -v curl >/dev/null; then
      echo "Duet node started (pid $pid): rpc $rpc, http $http (/health, /ready, /metrics)"
      echo "  log: $DUET_LOG_FILE"
      echo "  connect: sbin/start-cli.sh -h 127.0.0.1 -p ${rpc##*:} -u root -pw root"
      exit 0
    fi
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "duet-server exited during start; last lines of $DUET_LOG_FILE:" >&2
    tail -c "+$log_from" "$DUET_LOG_FILE" | tail -n 20 >&2
    rm -f "$DUET_PID_FILE"
    exit 1
  fi
  sleep 0.1
done
echo "duet-server (pid $pid) did not become ready within 60 s; see $DUET_LOG_FILE" >&2
exit 1
