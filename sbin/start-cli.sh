#!/usr/bin/env bash
# The Duet shell, with IoTDB's flags:
#   sbin/start-cli.sh [-h host[,host...]] [-p 6667] [-u root] [-pw root] [-e "statement"]
#                     [-usessl true -ts ca.crt]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cli="$(duet_bin duet-cli)"
exec "$cli" "$@"
