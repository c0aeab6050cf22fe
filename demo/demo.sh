#!/usr/bin/env bash
# The seed runbook's failure, caught before it happens.
#
# The cluster's shared certificates (cfssl layout: ca.pem, members.pem, server.pem) list the
# three members' IPs. Adding a fourth member at 127.0.0.14 with them would leave the cluster
# with a dead voting member; etcd-pki says so, and why, before anything is changed.
#
# Usage: demo/demo.sh [path/to/etcd-pki]
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/debug/etcd-pki}
PKI=fixtures/cfssl

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; echo "(exit $?)"; }

step "The shared peer certificate of the seed's cluster"
show "$BIN" inspect "$PKI/members.pem"

step "Pre-flight before 'member add infra3 --peer-urls=https://127.0.0.14:2380': refused"
show "$BIN" check --role peer --url https://127.0.0.14:2380 \
    --cert "$PKI/members.pem" --key "$PKI/members-key.pem" --cacert "$PKI/ca.pem"

step "The same certificate for an existing member (127.0.0.12): fine"
show "$BIN" check --role peer --url https://127.0.0.12:2380 \
    --cert "$PKI/members.pem" --key "$PKI/members-key.pem" --cacert "$PKI/ca.pem"

step "A peer certificate from another CA is caught too"
show "$BIN" check --role peer --url https://127.0.0.12:2380 \
    --cert "$PKI/foreign-members.pem" --cacert "$PKI/ca.pem"

step "The fix: reissue members.pem from the CA with 127.0.0.14 added (a copy of the PKI)"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp "$PKI"/{ca.pem,ca-key.pem,members.pem,members-key.pem} "$WORK"/
chmod 600 "$WORK/ca-key.pem" "$WORK/members-key.pem"
show "$BIN" reissue --cacert "$WORK/ca.pem" --ca-key "$WORK/ca-key.pem" \
    --cert "$WORK/members.pem" --key "$WORK/members-key.pem" --add-ip 127.0.0.14

step "The same pre-flight check now passes"
show "$BIN" check --role peer --url https://127.0.0.14:2380 \
    --cert "$WORK/members.pem" --key "$WORK/members-key.pem" --cacert "$WORK/ca.pem"

step "openssl agrees"
show openssl verify -CAfile "$WORK/ca.pem" "$WORK/members.pem"
show openssl x509 -in "$WORK/members.pem" -noout -checkip 127.0.0.14

step "Every certificate on the host, kubeadm check-expiration style"
show "$BIN" scan "$WORK"
