#!/usr/bin/env bash
# The project's test command: installs build prerequisites if missing, then
# runs every test of the workspace (unit, property, change-log conformance,
# .slt files). The first run builds RocksDB (~20-40 min on 2 cores); later
# runs reuse it from CARGO_TARGET_DIR (see scripts/env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh
cargo test --workspace "$@"
