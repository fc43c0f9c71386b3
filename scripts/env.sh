# Sourced by the project's scripts: one stable build directory outside the clone,
# so RocksDB's C++ (the slow part of the build) is compiled once per machine.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/duet/target}"
