#!/usr/bin/env bash
# Fuzzing, apart from the test command (scripts/test.sh runs the same
# property tests with 256 cases each):
#
#   scripts/fuzz.sh --proptest [CASES]          property suites, CASES each
#                                               (default 100000; the server
#                                               suite runs CASES/10)
#   scripts/fuzz.sh --cargo-fuzz SECONDS [T..]  each cargo-fuzz target (or
#                                               those named) for SECONDS
#
# Targets live in fuzz/fuzz_targets (harnesses in fuzz/src); crashes are
# saved in fuzz/artifacts/<target>/, the growing corpus in
# fuzz/corpus/<target>/ (both git-ignored). Replay one input:
#   cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -s none <target> <file>
# cargo-fuzz wants nightly: RUSTC_BOOTSTRAP=1 lets the stable toolchain
# accept its flags. RocksDB is linked from an earlier build when one is
# found (its C++ takes 20-40 min to compile).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

TARGETS=(sql rpc_frames rpc_payloads pipe_transfer chunk_event config)

# A RocksDB already compiled by any build on this machine.
if [ -z "${ROCKSDB_LIB_DIR:-}" ]; then
    lib="$(ls -t "$HOME"/.cache/duet/target*/*/build/librocksdb-sys-*/out/librocksdb.a \
        "$CARGO_TARGET_DIR"/*/build/librocksdb-sys-*/out/librocksdb.a 2>/dev/null | head -n1 || true)"
    if [ -n "$lib" ]; then
        export ROCKSDB_LIB_DIR="$(dirname "$lib")" ROCKSDB_STATIC=1
        echo "linking RocksDB from $ROCKSDB_LIB_DIR"
    else
        echo "no prebuilt RocksDB found: it will be compiled (20-40 min)"
    fi
fi

proptests() {
    local cases="${1:-100000}"
    local slow=$((cases / 10))
    run() {
        local n="$1"; shift
        echo "== PROPTEST_CASES=$n cargo test $*"
        local start=$SECONDS
        PROPTEST_CASES="$n" cargo test -q "$@"
        echo "   $((SECONDS - start)) s"
    }
    run "$cases" -p duet-parser --test fuzz_parse --test roundtrip
    run "$cases" -p duet-engine --test fuzz_decode
    run "$cases" -p duet-rpc --test fuzz_decode
    run "$cases" -p duet-pipe --test fuzz_wire
    run "$slow" -p duet-server --test fuzz_inputs
}

cargo_fuzz() {
    local seconds="$1"; shift
    local targets=("$@")
    [ ${#targets[@]} -gt 0 ] || targets=("${TARGETS[@]}")
    command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
    export RUSTC_BOOTSTRAP=1
    export CARGO_TARGET_DIR="${DUET_FUZZ_TARGET_DIR:-$HOME/.cache/duet/target-fuzz-lf}"
    cd fuzz
    # No sanitizer: the code under test is safe Rust (RocksDB is not
    # instrumented either); the harness caps single allocations itself.
    cargo fuzz build -s none
    export DUET_FUZZ_SEEDS=corpus # each target adds its seeds (fuzz/src/seeds.rs)
    for t in "${targets[@]}"; do
        echo "== $t: $seconds s"
        mkdir -p "corpus/$t" "artifacts/$t"
        cargo fuzz run -s none "$t" "corpus/$t" -- \
            -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 \
            -print_final_stats=1 2>&1 | tee "artifacts/$t/last-run.log" | grep -E \
            'stat::number_of_executed_units|Done |panicked|SUMMARY|ERROR|crash-|allocation of' || true
    done
}

case "${1:-}" in
    --proptest) shift; proptests "$@" ;;
    --cargo-fuzz) shift; [ $# -ge 1 ] || { echo "usage: $0 --cargo-fuzz SECONDS [target...]"; exit 2; }; cargo_fuzz "$@" ;;
    *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
