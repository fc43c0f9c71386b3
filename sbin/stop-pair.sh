#!/usr/bin/env bash
# Stops the pair started by sbin/start-pair.sh: B, then A, each with
# sbin/stop-standalone.sh (graceful; SIGKILL after DUET_STOP_TIMEOUT s).
# Pipes AB and BA keep their definitions and positions and resume when the
# nodes start again; writes made while only one node runs reach the other then.
set -euo pipefail
sbin="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ $# -eq 0 ] || { echo "usage: $(basename "$0") (no arguments)" >&2; exit 2; }

status=0
"$sbin/stop-standalone.sh" -c "$sbin/../conf/pair-b.toml" || status=1
"$sbin/stop-standalone.sh" -c "$sbin/../conf/pair-a.toml" || status=1
exit "$status"
