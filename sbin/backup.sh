#!/usr/bin/env bash
# An incremental backup of a running node, for cron:
#   sbin/backup.sh [-h HOST] [-p PORT] [-u USER] [-pw PASSWORD] [DIR]
# Runs `BACKUP INCREMENTAL TO 'DIR'` on the node: RocksDB's BackupEngine
# in the repository DIR, a name (or a path) under the node's
# storage.backup_dir (`incremental` when DIR is not given); files an
# earlier backup in that repository holds are not copied again. Prints the
# backup made; exits non-zero if it failed. The user needs the MAINTAIN
# privilege. The password may come from DUET_PASSWORD instead of -pw, so
# it shows neither in `ps` nor in the crontab:
#   0 3 * * * DUET_PASSWORD_FILE=/etc/duet/backup.pw /opt/duet/sbin/backup.sh nightly
# (DUET_PASSWORD_FILE: a file, mode 0600, whose first line is the password.)
# SHOW BACKUPS lists every repository's backups; restore with
# sbin/restore.sh <storage.backup_dir>/DIR DATA_DIR.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
usage="usage: $(basename "$0") [-h HOST] [-p PORT] [-u USER] [-pw PASSWORD] [DIR]"
host=127.0.0.1 port=6667 user=root dir=""
if [ -n "${DUET_PASSWORD_FILE:-}" ]; then
  IFS= read -r DUET_PASSWORD <"$DUET_PASSWORD_FILE" || [ -n "${DUET_PASSWORD:-}" ] \
    || { echo "cannot read a password from $DUET_PASSWORD_FILE" >&2; exit 2; }
fi
export DUET_PASSWORD="${DUET_PASSWORD:-root}"
while [ $# -gt 0 ]; do
  case "$1" in
    -h) host="$2"; shift 2 ;;
    -p) port="$2"; shift 2 ;;
    -u) user="$2"; shift 2 ;;
    -pw) DUET_PASSWORD="$2"; shift 2 ;;
    -*) echo "unknown argument: $1 ($usage)" >&2; exit 2 ;;
    *)
      [ -z "$dir" ] || { echo "one DIR only ($usage)" >&2; exit 2; }
      dir="$1"; shift ;;
  esac
done
case "$dir" in *"'"*) echo "DIR may not contain a quote: $dir" >&2; exit 2 ;; esac
stmt="BACKUP"
[ -z "$dir" ] || stmt="BACKUP INCREMENTAL TO '$dir'"
cli="$(duet_bin duet-cli)"
exec "$cli" -h "$host" -p "$port" -u "$user" -e "$stmt"
