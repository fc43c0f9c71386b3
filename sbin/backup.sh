#!/usr/bin/env bash
# An incremental backup of a running node, for cron:
#   sbin/backup.sh [-h HOST] [-p PORT] [-u USER] [-pw PASSWORD]
# Runs `BACKUP` on the node (RocksDB's BackupEngine under the node's
# storage.backup_dir/incremental: files an earlier backup holds are not
# copied again) and prints the backup made. Exits non-zero if it failed.
# The user needs the MAINTAIN privilege. Restore with sbin/restore.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
host=127.0.0.1 port=6667 user=root pw=root
while [ $# -gt 0 ]; do
  case "$1" in
    -h) host="$2"; shift 2 ;;
    -p) port="$2"; shift 2 ;;
    -u) user="$2"; shift 2 ;;
    -pw) pw="$2"; shift 2 ;;
    *) echo "unknown argument: $1 (usage: $(basename "$0") [-h HOST] [-p PORT] [-u USER] [-pw PASSWORD])" >&2; exit 2 ;;
  esac
done
cli="$(duet_bin duet-cli)"
exec "$cli" -h "$host" -p "$port" -u "$user" -pw "$pw" -e "BACKUP"
