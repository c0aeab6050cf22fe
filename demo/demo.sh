#!/usr/bin/env bash
# The seed runbook's scale-out, done safely, on a real 3-member TLS etcd cluster that this script
# starts on 127.0.0.11-13 and stops again.
#
# The cluster's shared certificates (cfssl layout: ca.pem, server.pem, members.pem) list only the
# three members' IPs. The runbook's `etcdctl member add` for a fourth member at 127.0.0.14 would
# leave the cluster with a dead voting member. etcd-pki refuses, says why and which command fixes
# it; after the fix the new member joins as a learner, is promoted, and is removed again.
#
# Usage: demo/demo.sh [path/to/etcd-pki]
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-target/debug/etcd-pki}")
WORK=$(mktemp -d /tmp/etcd-pki-demo.XXXXXX)
PIDS=()

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; echo "(exit $?)"; }

stop_all() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for _ in $(seq 50); do
        alive=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    rm -rf "$WORK"
}
trap stop_all EXIT

command -v etcd >/dev/null || { echo "etcd is not installed: run 'make demo' (it installs etcd-server)"; exit 2; }

# The runbook's ports, unless something already listens there.
CLIENT=2379 PEER=2380
if (exec 3<>/dev/tcp/127.0.0.11/2379) 2>/dev/null || (exec 3<>/dev/tcp/127.0.0.11/2380) 2>/dev/null; then
    CLIENT=23791 PEER=23801
fi

# Each node has its own copy of the PKI, as separate hosts would; the admin host has one too.
for node in admin infra0 infra1 infra2 infra3; do
    mkdir -p "$WORK/$node"
    cp fixtures/cfssl/{ca.pem,ca-key.pem,server.pem,server-key.pem,members.pem,members-key.pem} "$WORK/$node/"
    chmod 600 "$WORK/$node"/*-key.pem
done
ADMIN=$WORK/admin
CLUSTER="infra0=https://127.0.0.11:$PEER,infra1=https://127.0.0.12:$PEER,infra2=https://127.0.0.13:$PEER"

start_member() { # name ip [env...]
    local name=$1 ip=$2; shift 2
    local dir=$WORK/$name
    env "$@" etcd --data-dir "$dir/data" \
        --listen-client-urls "https://$ip:$CLIENT" --advertise-client-urls "https://$ip:$CLIENT" \
        --listen-peer-urls "https://$ip:$PEER" --initial-cluster-token etcd-pki-demo \
        --client-cert-auth --trusted-ca-file "$dir/ca.pem" --cert-file "$dir/server.pem" --key-file "$dir/server-key.pem" \
        --peer-client-cert-auth --peer-trusted-ca-file "$dir/ca.pem" --peer-cert-file "$dir/members.pem" --peer-key-file "$dir/members-key.pem" \
        --logger zap --log-outputs stderr >"$dir/etcd.log" 2>&1 &
    PIDS+=($!)
    disown $!
}

step "Start the runbook's cluster: infra0-2 on 127.0.0.11-13, mutual TLS, cfssl certificates"
for i in 0 1 2; do
    start_member "infra$i" "127.0.0.1$((i + 1))" ETCD_NAME="infra$i" ETCD_INITIAL_CLUSTER="$CLUSTER" \
        ETCD_INITIAL_ADVERTISE_PEER_URLS="https://127.0.0.1$((i + 1)):$PEER" ETCD_INITIAL_CLUSTER_STATE=new
done
export ETCDCTL_ENDPOINTS="https://127.0.0.11:$CLIENT,https://127.0.0.12:$CLIENT,https://127.0.0.13:$CLIENT"
export ETCDCTL_CACERT=$ADMIN/ca.pem ETCDCTL_CERT=$ADMIN/members.pem ETCDCTL_KEY=$ADMIN/members-key.pem
for _ in $(seq 100); do "$BIN" endpoint health --cluster >/dev/null 2>&1 && break; sleep 0.2; done
sleep 6 # etcd accepts membership changes once its members have been connected for 5 s
show "$BIN" member list -w table

step "The runbook's 'member add infra3 --peer-urls=https://127.0.0.14:$PEER': refused, nothing sent"
show "$BIN" member add infra3 --peer-urls "https://127.0.0.14:$PEER"
show "$BIN" member list

step "The fix it names: reissue members.pem and server.pem from the CA with 127.0.0.14 added"
show "$BIN" reissue --cacert "$ADMIN/ca.pem" --ca-key "$ADMIN/ca-key.pem" \
    --cert "$ADMIN/members.pem" --key "$ADMIN/members-key.pem" --add-ip 127.0.0.14
show "$BIN" reissue --cacert "$ADMIN/ca.pem" --ca-key "$ADMIN/ca-key.pem" \
    --cert "$ADMIN/server.pem" --key "$ADMIN/server-key.pem" --add-ip 127.0.0.14
cp "$ADMIN"/{members.pem,server.pem} "$WORK/infra3/"   # scp to the new node

step "Add infra3 as a learner (runbook 2.1.4), now that its certificate covers it"
show "$BIN" member add infra3 --peer-urls "https://127.0.0.14:$PEER" --learner | tee "$WORK/add.out"
mapfile -t SETTINGS < <(grep '^ETCD_' "$WORK/add.out" | tr -d '"')

step "Start infra3 on 127.0.0.14 with the printed ETCD_* settings; promote it once it has caught up"
start_member infra3 127.0.0.14 "${SETTINGS[@]}"
show "$BIN" member promote infra3 --wait --timeout 2m
show "$BIN" endpoint status --cluster -w table
show "$BIN" endpoint health --cluster

step "Scale back in: remove infra3 (section 3)"
show "$BIN" member remove infra3 || show "$BIN" member remove infra3 --force
show "$BIN" member list -w table

step "Offline: the same certificate checked by itself, and every certificate in the admin PKI"
show "$BIN" check --role peer --url "https://127.0.0.14:$PEER" \
    --cert fixtures/cfssl/members.pem --key fixtures/cfssl/members-key.pem --cacert fixtures/cfssl/ca.pem
show "$BIN" scan "$ADMIN"
