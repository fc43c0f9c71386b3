#!/usr/bin/env bash
# The project's test command: installs build prerequisites if missing, runs
# every Rust test of the workspace (unit, property, change-log conformance,
# .slt files, real duet-server processes), then IoTDB's official Python
# client (apache-iotdb, unmodified) against a real node, and that client's
# own integration tests (scripts/iotdb-client-tests.sh). The first run
# builds RocksDB (~20-40 min on 2 cores); later runs reuse it from
# CARGO_TARGET_DIR (scripts/env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh
cargo test --workspace "$@"

# duet-bench all keeps working: a one-second smoke run on its own local
# pair (every figure present and a number; no timing is asserted).
cargo build -q -p duet-bench --bin duet-bench
bench_out="$(mktemp)"
"$CARGO_TARGET_DIR/debug/duet-bench" all --json --seconds 1 >"$bench_out"
python3 - "$bench_out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
keys = ["ingest_points_per_s", "rocksdb_points_per_s", "ingest_ratio",
        "replication_ratio_one_writer", "replication_ratio_both_writers",
        "lag_p50_ms", "lag_p99_ms", "lag50_p50_ms", "lag50_p99_ms",
        "catchup_ratio", "rss_peak_mib"]
bad = [k for k in keys if not isinstance(d.get(k), (int, float)) or d[k] <= 0]
assert "sync_async_ratio" in d, "sync_async_ratio missing"
assert not bad, f"duet-bench all: missing or not positive: {bad} in {d}"
print("duet-bench all smoke run: ok")
PY
rm -f "$bench_out"

venv="${DUET_VENV:-$HOME/.cache/duet/venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import iotdb.Session' >/dev/null 2>&1 || "$venv/bin/pip" install -q apache-iotdb
"$venv/bin/python" tests/python/test_iotdb_client.py

# IoTDB's own integration tests of that client (apache-iotdb 2.0.11, tree
# model), each on a fresh node.
bash scripts/iotdb-client-tests.sh
