#!/usr/bin/env bash
# Restores a stopped node from its incremental backups:
#   sbin/restore.sh BACKUP_DIR DATA_DIR [BACKUP_ID]
# BACKUP_DIR is <storage.backup_dir>/incremental of the node that made them
# (SHOW BACKUPS names it); the newest backup unless BACKUP_ID is given.
# The node must be stopped. Its current data is moved aside to
# DATA_DIR.before-restore-<time> (delete it once the node is back), the
# backup's files are checked against their checksums, restored, and the
# restored database is opened to check it. Start the node as usual: it
# rejoins the pair, sends its peers what they lack and gets what it lacks.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
[ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: $(basename "$0") BACKUP_DIR DATA_DIR [BACKUP_ID]" >&2; exit 2; }
backup="$1"; data="$2"; id="${3:-}"
[ -d "$backup" ] || { echo "no backup directory $backup" >&2; exit 2; }
if [ -e "$data/LOCK" ]; then
  # A running node keeps its database's LOCK file open.
  lock="$(readlink -f "$data/LOCK")"
  for fd in /proc/[0-9]*/fd/*; do
    if [ "$(readlink "$fd" 2>/dev/null)" = "$lock" ]; then
      pid="${fd#/proc/}"; pid="${pid%%/*}"
      echo "the node using $data is running (pid $pid): stop it first (sbin/stop-standalone.sh)" >&2
      exit 1
    fi
  done
fi
server="$(duet_bin duet-server)"
aside=""
if [ -d "$data" ] && [ -n "$(ls -A "$data" 2>/dev/null)" ]; then
  aside="$data.before-restore-$(date +%Y%m%d-%H%M%S)"
  mv "$data" "$aside"
  echo "moved the current data aside to $aside"
fi
args=(--data-dir "$data" --restore-from "$backup")
[ -z "$id" ] || args+=(--backup-id "$id")
if ! "$server" "${args[@]}"; then
  # Nothing half-restored is left where the node would open it: the data
  # that was there goes back.
  echo "restore failed: nothing was changed" >&2
  rm -rf "$data"
  if [ -n "$aside" ]; then
    mv "$aside" "$data"
    echo "the data that was there is back in $data" >&2
  fi
  exit 1
fi
