#!/usr/bin/env bash
# Makes a test CA and one certificate + key per node, with the openssl CLI:
#
#   sbin/make-certs.sh OUT_DIR [NODE[,NAME...] ...]
#
# NODE names the files (OUT_DIR/NODE.crt, OUT_DIR/NODE.key) and is the
# certificate's common name; NODE and every NAME after it go into its
# subject alternative names, as an IP address if they are one, else as a DNS
# name. List every name and address clients and the peer connect to. With
# no NODE: one certificate "localhost" for localhost and 127.0.0.1.
#
#   sbin/make-certs.sh certs iotdb-1,10.0.0.1 iotdb-2,10.0.0.2
#
# The CA is OUT_DIR/ca.crt (give it to nodes as [tls] ca_file and to clients
# as their CA file) and OUT_DIR/ca.key; an existing CA in OUT_DIR is reused,
# so nodes can be added later. Keys are 0600. Node certificates serve both
# as server and as client certificates (a node's pipes present them).
# For tests and first setups: a production CA is whatever your site uses.
set -euo pipefail

usage() {
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
[ $# -ge 1 ] || usage
case "$1" in -h | --help) usage ;; esac
command -v openssl >/dev/null || {
  echo "make-certs.sh: the openssl command is needed (apt-get install openssl)" >&2
  exit 1
}

out="$1"
shift
[ $# -ge 1 ] || set -- localhost,127.0.0.1
umask 077
mkdir -p "$out"
days_ca=3650
days_node=825

is_ip() {
  [[ "$1" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ || "$1" == *:* ]]
}

if [ ! -f "$out/ca.crt" ] || [ ! -f "$out/ca.key" ]; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$out/ca.key" -out "$out/ca.crt" -days "$days_ca" -sha256 \
    -subj "/O=Duet/CN=Duet test CA $(date -u +%Y%m%dT%H%M%SZ)-$RANDOM" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" 2>/dev/null
  chmod 0644 "$out/ca.crt"
  echo "CA: $out/ca.crt (key $out/ca.key)"
fi

for spec in "$@"; do
  IFS=',' read -r -a names <<<"$spec"
  node="${names[0]}"
  if [ -z "$node" ] || [[ "$node" == */* ]]; then
    echo "make-certs.sh: bad node name in '$spec'" >&2
    exit 2
  fi
  sans=()
  for n in "${names[@]}"; do
    [ -n "$n" ] || continue
    if is_ip "$n"; then sans+=("IP:$n"); else sans+=("DNS:$n"); fi
  done
  san="$(IFS=','; echo "${sans[*]}")"
  ext="$(mktemp)"
  trap 'rm -f "$ext" "$out/$node.csr"' EXIT
  cat >"$ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$san
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$out/$node.key" -out "$out/$node.csr" -subj "/O=Duet/CN=$node" 2>/dev/null
  openssl x509 -req -in "$out/$node.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" \
    -CAcreateserial -out "$out/$node.crt" -days "$days_node" -sha256 -extfile "$ext" 2>/dev/null
  rm -f "$ext" "$out/$node.csr"
  trap - EXIT
  chmod 0600 "$out/$node.key"
  chmod 0644 "$out/$node.crt"
  echo "$node: $out/$node.crt (key $out/$node.key) for $san"
done
