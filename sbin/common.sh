# Shared by the sbin scripts: project root, build directory, and a binary
# that is built on first use.
DUET_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../scripts/env.sh
source "$DUET_HOME/scripts/env.sh"
# The dev profile shares its RocksDB build with the tests (dependencies are
# optimised in it); DUET_PROFILE=release builds a separate, fully optimised one.
DUET_PROFILE="${DUET_PROFILE:-dev}"
if [ "$DUET_PROFILE" = "dev" ]; then DUET_BIN_DIR="$CARGO_TARGET_DIR/debug"; else DUET_BIN_DIR="$CARGO_TARGET_DIR/$DUET_PROFILE"; fi
# An installed tree (sbin/deploy-pair.sh's INSTALL_DIR: bin/, sbin/, conf/,
# no sources) runs the binaries in its bin/.
if [ -z "${DUET_BIN_DIR_OVERRIDE:-}" ] && [ ! -f "$DUET_HOME/Cargo.toml" ] && [ -x "$DUET_HOME/bin/duet-server" ]; then
  DUET_BIN_DIR_OVERRIDE="$DUET_HOME/bin"
fi
# Tests point the scripts at the binaries they built.
if [ -n "${DUET_BIN_DIR_OVERRIDE:-}" ]; then DUET_BIN_DIR="$DUET_BIN_DIR_OVERRIDE"; fi

# duet_bin NAME: path to the binary, built (or brought up to date: a no-op
# when nothing changed) with cargo when cargo is there.
duet_bin() {
  local name="$1"
  if [ -z "${DUET_BIN_DIR_OVERRIDE:-}" ] && command -v cargo >/dev/null 2>&1; then
    if [ ! -x "$DUET_BIN_DIR/$name" ]; then
      bash "$DUET_HOME/scripts/setup.sh" >&2
      echo "building $name (the first build compiles RocksDB and takes a while)..." >&2
    fi
    (cd "$DUET_HOME" && cargo build -q --profile "$DUET_PROFILE" -p "$name" --bin "$name" >&2) || return 1
  fi
  [ -x "$DUET_BIN_DIR/$name" ] || { echo "no $name in $DUET_BIN_DIR (and no cargo to build it)" >&2; return 1; }
  echo "$DUET_BIN_DIR/$name"
}

# conf_file [-c FILE] ARGS...: the configuration named by -c, or conf/duet.toml.
DUET_CONF="$DUET_HOME/conf/duet.toml"
parse_conf_flag() {
  while [ $# -gt 0 ]; do
    case "$1" in
      -c|--config) DUET_CONF="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2 ;;
      *) echo "unknown argument: $1 (usage: $(basename "$0") [-c conf/duet.toml])" >&2; exit 2 ;;
    esac
  done
  [ -f "$DUET_CONF" ] || { echo "no configuration file $DUET_CONF" >&2; exit 2; }
  local base; base="$(basename "$DUET_CONF" .toml)"
  DUET_PID_FILE="$DUET_HOME/run/$base.pid"
  DUET_LOG_FILE="$DUET_HOME/logs/$base.log"
}

# is_duet_node PID: whether PID is a duet-server started with $DUET_CONF
# (a pid file can outlive its process, and the pid be reused by another).
is_duet_node() {
  local pid="$1" exe
  kill -0 "$pid" 2>/dev/null || return 1
  [ -r "/proc/$pid/cmdline" ] || return 0  # no /proc: trust the pid file
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
  case "$exe" in */duet-server|*/duet-server\ \(deleted\)) ;; *) return 1 ;; esac
  # Not `tr | grep -q`: under pipefail, grep stopping early can make the
  # pipeline fail with tr's SIGPIPE.
  grep -qxF "$DUET_CONF" < <(tr '\0' '\n' <"/proc/$pid/cmdline")
}
