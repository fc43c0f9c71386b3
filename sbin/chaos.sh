#!/usr/bin/env bash
# A randomized fault run with a reference-model check (tests/tests/chaos):
#   sbin/chaos.sh --seed S[..E] --seconds N [--nodes 2|3] [--writers W]
#                 [--log-max-events M]
# Clients write to every node (inserts, deletes, and now and then a dropped
# series or database, or a series made again with another type) while nodes
# are killed, restored from a backup and restarted with their clock off,
# links cut, delayed, blackholed or made to lose replies, and pipes stopped
# (until the change log is trimmed past them), on a schedule drawn from the seed; then the
# nodes' data is checked against what the clients were told. A range of
# seeds (--seed 1..3) runs one after the other. The same seed gives the same
# schedule of fault kinds and targets (timing is wall-clock). Each run's
# output goes to a log under $TMPDIR; a summary per seed is printed at the
# end, and the exit status is 1 if any run failed. --writers sets the client
# threads per node (default 2); --log-max-events caps the nodes' change log
# (trimmed every second; default 3000 events, so pipes that fall behind
# resend history; 0 keeps the server's default cap and skips the trim fault).
# A series dropped and made again takes INT64 or DOUBLE at random, so type
# conflicts meet drops (CHAOS_TYPE_CHANGES=0 in the environment keeps DOUBLE).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../scripts/env.sh
source "$ROOT/scripts/env.sh"

usage() {
  echo "usage: $(basename "$0") --seed S[..E] --seconds N [--nodes 2|3] [--writers W] [--log-max-events M]" >&2
  exit 2
}

seeds="" seconds="" nodes=2 writers="" log_max=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) seeds="${2:-}"; shift 2 || usage ;;
    --seconds) seconds="${2:-}"; shift 2 || usage ;;
    --nodes) nodes="${2:-}"; shift 2 || usage ;;
    --writers) writers="${2:-}"; shift 2 || usage ;;
    --log-max-events) log_max="${2:-}"; shift 2 || usage ;;
    -h|--help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done
[[ "$seeds" =~ ^[0-9]+(\.\.[0-9]+)?$ ]] || { echo "--seed takes a number or a range a..b" >&2; usage; }
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "--seconds takes a number" >&2; usage; }
[[ "$nodes" == 2 || "$nodes" == 3 ]] || { echo "--nodes is 2 or 3" >&2; usage; }
[[ -z "$writers" || "$writers" =~ ^[1-9][0-9]*$ ]] || { echo "--writers takes a positive number" >&2; usage; }
[[ -z "$log_max" || "$log_max" =~ ^[0-9]+$ ]] || { echo "--log-max-events takes a number (0: the server's default)" >&2; usage; }
first="${seeds%%..*}"
last="${seeds##*..}"

if [ -n "$writers" ]; then export CHAOS_WRITERS="$writers"; else unset CHAOS_WRITERS; fi
if [ -n "$log_max" ]; then export CHAOS_LOG_MAX_EVENTS="$log_max"; else unset CHAOS_LOG_MAX_EVENTS; fi

cd "$ROOT"
cargo build -p duet-server -p duet-cli
logs="$(mktemp -d "${TMPDIR:-/tmp}/duet-chaos.XXXXXX")"
failed=0
summary=""
for seed in $(seq "$first" "$last"); do
  log="$logs/seed-$seed-nodes-$nodes.log"
  echo "=== chaos: seed $seed, $nodes nodes, $seconds s of faults (log: $log)"
  if CHAOS_SEED="$seed" CHAOS_SECONDS="$seconds" CHAOS_NODES="$nodes" \
    cargo test -p duet-tests --test chaos -- --nocapture --test-threads 1 --ignored --exact chaos_run \
    2>&1 | tee "$log"; then
    result=PASS
  else
    result=FAIL
    failed=1
  fi
  block="$(sed -n '/^chaos summary:/,/^  result:/p' "$log")"
  if [ -z "$block" ]; then
    block="chaos summary: seed $seed | $nodes nodes | no summary: the run stopped before the check (see $log)"
  fi
  summary+="$block"$'\n'"  run: $result (log: $log)"$'\n'
done

echo
echo "=== chaos results"
printf '%s' "$summary"
exit "$failed"
