#!/usr/bin/env bash
# The project's test command: installs build prerequisites if missing, runs
# every Rust test of the workspace (unit, property, change-log conformance,
# .slt files, real duet-server processes), then IoTDB's official Python
# client (apache-iotdb, unmodified) against a real node. The first run
# builds RocksDB (~20-40 min on 2 cores); later runs reuse it from
# CARGO_TARGET_DIR (scripts/env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh
cargo test --workspace "$@"

venv="${DUET_VENV:-$HOME/.cache/duet/venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import iotdb.Session' >/dev/null 2>&1 || "$venv/bin/pip" install -q apache-iotdb
"$venv/bin/python" tests/python/test_iotdb_client.py
