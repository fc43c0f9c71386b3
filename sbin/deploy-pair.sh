#!/usr/bin/env bash
# Deploys a dual-active pair on two hosts, as IoTDB's guide does it, from
# this machine:  sbin/deploy-pair.sh [conf/pair.env]
# Builds duet-server and duet-cli (release profile unless DUET_PROFILE is
# set), copies them with sbin/ and conf/ to INSTALL_DIR on each host, writes
# each node's conf/duet.toml (its host name, the ports), starts each node
# (waiting for /ready), creates pipes AB on A and BA on B exactly as the
# guide writes them (host names, not addresses), and ends with SHOW CLUSTER
# and SHOW PIPES from both. Running it again changes nothing that is
# already right: a running node is left running, an existing pipe kept.
set -euo pipefail
sbin="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
env_file="${1:-$sbin/../conf/pair.env}"
[ -f "$env_file" ] || { echo "no $env_file (copy conf/pair.env and edit it)" >&2; exit 2; }
# shellcheck disable=SC1090
source "$env_file"
: "${HOST_A:?}" "${HOST_B:?}" "${RPC_PORT:?}" "${HTTP_PORT:?}" "${INSTALL_DIR:?}"
: "${PIPE_USER:=root}" "${PIPE_PASSWORD:=root}" "${TRANSPORT:=ssh}" "${SSH:=ssh}"
: "${EXEC_A:=}" "${EXEC_B:=}"
if [ "$PIPE_PASSWORD" != root ] && [ -n "$(find "$env_file" -perm /044 2>/dev/null)" ]; then
  echo "deploy-pair: warning: $env_file holds PIPE_PASSWORD and other users may read it: chmod 600 $env_file" >&2
fi
export DUET_PROFILE="${DUET_PROFILE:-release}"
source "$sbin/common.sh"

say() { echo "deploy-pair: $*"; }
# on A|B CMD...: runs CMD on that host.
on() {
  local which="$1"; shift
  local host exec
  if [ "$which" = A ]; then host="$HOST_A"; exec="$EXEC_A"; else host="$HOST_B"; exec="$EXEC_B"; fi
  if [ "$TRANSPORT" = local ]; then
    # shellcheck disable=SC2086
    $exec "$@"
  else
    # shellcheck disable=SC2086
    $SSH "$host" "$(printf '%q ' "$@")"
  fi
}
install_dir() {
  if [ "$TRANSPORT" = local ]; then echo "$INSTALL_DIR/$(tr '[:upper:]' '[:lower:]' <<<"$1")"; else echo "$INSTALL_DIR"; fi
}

server="$(duet_bin duet-server)"
cli="$(duet_bin duet-cli)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/conf"
cp "$server" "$cli" "$stage/bin/"
cp -r "$DUET_HOME/sbin" "$stage/"
cp -r "$DUET_HOME/scripts" "$stage/"
cp "$DUET_HOME/conf/haproxy.cfg" "$stage/conf/"

for which in A B; do
  if [ "$which" = A ]; then host="$HOST_A"; else host="$HOST_B"; fi
  dir="$(install_dir "$which")"
  # Each node's own configuration: its name, the ports, data under dir.
  cat >"$stage/conf/duet.toml" <<TOML
# Written by sbin/deploy-pair.sh for $host.
[node]
name = "$host"
data_dir = "$dir/data"
[rpc]
address = "0.0.0.0"
port = $RPC_PORT
[http]
address = "0.0.0.0"
port = $HTTP_PORT
TOML
  # Into DIR/.incoming first, then moved into place: a binary is replaced
  # by a rename, so a running node's executable is never written over.
  on "$which" mkdir -p "$dir/.incoming"
  if [ "$TRANSPORT" = local ]; then
    cp -r "$stage/." "$dir/.incoming/"
  elif command -v rsync >/dev/null 2>&1; then
    rsync -a -e "$SSH" "$stage/" "$host:$dir/.incoming/"
  else
    tar -C "$stage" -cf - . | $SSH "$host" "tar -C $(printf '%q' "$dir/.incoming") -xf -"
  fi
  # What a running node does not pick up until it restarts: say so.
  changed="$(on "$which" sh -c 'cd "$1" && for f in conf/duet.toml bin/duet-server; do [ -f "$f" ] && ! cmp -s "$f" ".incoming/$f" && echo "$f"; done; true' sh "$dir")"
  on "$which" sh -c 'cd "$1" && mkdir -p bin && for f in .incoming/bin/*; do mv -f "$f" bin/; done && cp -r .incoming/. . && rm -rf .incoming' sh "$dir"
  say "$host: installed in $dir"
  if on "$which" env DUET_BIN_DIR_OVERRIDE="$dir/bin" bash "$dir/sbin/start-standalone.sh" -c "$dir/conf/duet.toml" >"$stage/start.out" 2>&1; then
    say "$host: $(head -1 "$stage/start.out")"
  elif grep -q "already running" "$stage/start.out"; then
    if [ -n "$changed" ]; then
      say "$host: already running; changed since it started: $(echo $changed) (restart it to use them: sbin/stop-standalone.sh -c $dir/conf/duet.toml, then sbin/start-standalone.sh -c $dir/conf/duet.toml)"
    else
      say "$host: already running"
    fi
  else
    cat "$stage/start.out" >&2
    exit 1
  fi
done

# cli A|B SQL: a statement on that node, from that host. The password
# and the statement (which may carry sink.password) go over stdin, never
# on a command line that `ps` shows to every user of either host.
cli_on() {
  local which="$1" sql="$2" dir
  dir="$(install_dir "$which")"
  printf '%s\n%s;\n' "$PIPE_PASSWORD" "$sql" |
    on "$which" sh -c 'IFS= read -r DUET_PASSWORD; export DUET_PASSWORD; exec "$@"' sh \
      "$dir/bin/duet-cli" -h 127.0.0.1 -p "$RPC_PORT" -u "$PIPE_USER"
}

pipe_problems=0
for pair in "A AB $HOST_B" "B BA $HOST_A"; do
  read -r which name peer <<<"$pair"
  # The listing is read whole before grep looks at it: with pipefail, a
  # grep -q that stops at the first match can leave the CLI with SIGPIPE
  # and the pipe counted as missing.
  pipes="$(cli_on "$which" "show pipe $name")"
  if grep -qE "(^|[^A-Za-z0-9_])$name([^A-Za-z0-9_]|$)" <<<"$pipes"; then
    # There: is it the pipe this file describes, and running?
    # SHOW PIPE prints the sink as {sink=..., sink.ip=iotdb-2, sink.port=6667}.
    if ! grep -qE "[{ ](sink\.)?ip=$peer[,}]" <<<"$pipes" || ! grep -qE "[{ ](sink\.)?port=$RPC_PORT[,}]" <<<"$pipes"; then
      echo "deploy-pair: pipe $name exists but does not send to $peer:$RPC_PORT as $env_file says:" >&2
      echo "$pipes" >&2
      echo "  fix it by hand (ALTER PIPE $name MODIFY SINK ('sink.ip'='$peer', 'sink.port'='$RPC_PORT'), or DROP PIPE $name and run this again)" >&2
      exit 1
    fi
    if grep -qw STOPPED <<<"$pipes"; then
      say "pipe $name: already there, but STOPPED (see its ExceptionMessage above; START PIPE $name once fixed)"
      pipe_problems=1
    else
      say "pipe $name: already there"
    fi
  else
    # The guide's statement; the credentials only when they are not its
    # defaults (root/root).
    creds=""
    if [ "$PIPE_USER" != root ] || [ "$PIPE_PASSWORD" != root ]; then
      creds=", 'sink.username'='$PIPE_USER', 'sink.password'='$PIPE_PASSWORD'"
    fi
    cli_on "$which" "create pipe $name with source ('source.mode.double-living'='true') with sink ('sink'='iotdb-thrift-sink', 'sink.ip'='$peer', 'sink.port'='$RPC_PORT'$creds)" >/dev/null
    say "pipe $name: created (to $peer:$RPC_PORT)"
  fi
done

for which in A B; do
  if [ "$which" = A ]; then host="$HOST_A"; else host="$HOST_B"; fi
  echo "== $host: show cluster"
  cli_on "$which" "show cluster"
  echo "== $host: show pipes"
  cli_on "$which" "show pipes"
done
if [ "$pipe_problems" -ne 0 ]; then
  echo "deploy-pair: a pipe is stopped (above)" >&2
  exit 1
fi
