#!/usr/bin/env bash
# The seed runbook's scale-out, done safely, on a real 3-member TLS etcd cluster that this script
# starts on 127.0.0.11-13 and stops again.
#
# The cluster's shared certificates (cfssl layout: ca.pem, server.pem, members.pem) list only the
# three members' IPs. The runbook's `etcdctl member add` for a fourth member at 127.0.0.14 would
# leave the cluster with a dead voting member. etcd-pki refuses, says why; `preflight` shows every
# check; `scale-out --fix-certs` reissues the new node's certificates, snapshots, adds it as a
# learner, writes its etcd.conf and unit, starts it (--exec, from those files), promotes it once it
# has caught up; `scale-in` removes it again.
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
    # Members restarted by the CA rotation's hook have new PIDs, in their pid files.
    for f in "$WORK"/*/pid; do [ -s "$f" ] && PIDS+=("$(cat "$f")"); done
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

# The etcd it runs: the one in $TEST_ETCD_BIN_DIR when set (as the tests do), else the
# one on PATH.
if [ -n "${TEST_ETCD_BIN_DIR:-}" ]; then
    PATH=$(realpath "$TEST_ETCD_BIN_DIR"):$PATH
fi
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
    # The command line, kept so that the CA rotation's restart hook can start it again.
    cat >"$dir/run.sh" <<SH
exec env $* etcd --data-dir "$dir/data" \\
    --listen-client-urls "https://$ip:$CLIENT" --advertise-client-urls "https://$ip:$CLIENT" \\
    --listen-peer-urls "https://$ip:$PEER" --initial-cluster-token etcd-pki-demo \\
    --client-cert-auth --trusted-ca-file "$dir/ca.pem" --cert-file "$dir/server.pem" --key-file "$dir/server-key.pem" \\
    --peer-client-cert-auth --peer-trusted-ca-file "$dir/ca.pem" --peer-cert-file "$dir/members.pem" --peer-key-file "$dir/members-key.pem" \\
    --logger zap --log-outputs stderr </dev/null >>"$dir/etcd.log" 2>&1
SH
    bash "$dir/run.sh" &
    PIDS+=($!)
    echo $! >"$dir/pid"
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

step "doctor: infra0's own TLS configuration, found from its process, checked as etcd uses it"
show "$BIN" doctor --pid "${PIDS[0]}"

step "The runbook's 'member add infra3 --peer-urls=https://127.0.0.14:$PEER': refused, nothing sent"
show "$BIN" member add infra3 --peer-urls "https://127.0.0.14:$PEER"

step "Preflight for infra3 with the certificates copied to it (read-only; exit 1 on FAIL)"
NODE=$WORK/infra3
show "$BIN" preflight infra3 --peer-urls "https://127.0.0.14:$PEER" \
    --peer-cert "$NODE/members.pem" --peer-key "$NODE/members-key.pem" --server-cert "$NODE/server.pem" \
    --peer-cacert "$ADMIN/ca.pem"

# What an operator does on the new host once the files are there: systemctl start etcd. Here:
# the unit's ExecStart, run with its EnvironmentFile (etcd.conf), in the background.
cat >"$WORK/start-node.sh" <<'SH'
#!/usr/bin/env bash
set -eu
cd "$ETCD_PKI_NODE_DIR"
set -a; . ./etcd.conf; set +a
cmd=$(sed -n '/^ExecStart=/,/"$/p' etcd.service | sed 's/^ExecStart=//')
eval "$cmd" </dev/null >"$NODE_LOG" 2>&1 &
echo $! >"$PID_FILE"
SH
chmod +x "$WORK/start-node.sh"
export NODE_LOG=$NODE/etcd.log PID_FILE=$WORK/infra3.pid

step "scale-out: preflight, --fix-certs, snapshot, add as learner, node files, start, promote"
show "$BIN" scale-out infra3 --peer-urls "https://127.0.0.14:$PEER" \
    --peer-cert "$NODE/members.pem" --peer-key "$NODE/members-key.pem" --server-cert "$NODE/server.pem" \
    --peer-cacert "$ADMIN/ca.pem" --ca-key "$ADMIN/ca-key.pem" --fix-certs \
    --out "$WORK/out" --data-dir "$NODE/data" --pki-dir "$NODE" --etcd-binary "$(command -v etcd)" \
    --token etcd-pki-demo --exec "$WORK/start-node.sh" --timeout 2m
[ -s "$PID_FILE" ] && PIDS+=("$(cat "$PID_FILE")")
show cat "$WORK/out/infra3/etcd.conf"
show cat "$WORK/out/infra3/existing-nodes.txt"
show "$BIN" member list -w table
show "$BIN" endpoint status --cluster -w table

step "scale-in: snapshot, quorum-safe remove of infra3, the remaining nodes' CLUSTER line"
show "$BIN" scale-in infra3 --out "$WORK/out"
show "$BIN" member list -w table
show ls "$WORK/out"

step "Offline: the fixed certificate checked by itself, and every certificate on the new node"
show "$BIN" check --role peer --url "https://127.0.0.14:$PEER" \
    --cert "$NODE/members.pem" --key "$NODE/members-key.pem" --cacert "$ADMIN/ca.pem"
show "$BIN" scan "$NODE"

step "rotate: renew what is due in each member's files and prove the cluster serves it"
# One directory per member: links to each node's own copy of the files.
mkdir -p "$WORK/members"
for i in 0 1 2; do ln -s "$WORK/infra$i" "$WORK/members/infra$i"; done
show "$BIN" rotate --members-dir "$WORK/members" --ca-cert "$ADMIN/ca.pem" --ca-key "$ADMIN/ca-key.pem" \
    --expires-within 100%

# What `systemctl restart etcd` does on a node: stop the process (SIGTERM, then SIGKILL after
# 10 s), start it again with the same command line, which reads the trust files anew.
cat >"$WORK/restart.sh" <<'SH'
#!/usr/bin/env bash
dir=$1
pid=$(cat "$dir/pid")
kill -TERM "$pid" 2>/dev/null
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$pid" 2>/dev/null
bash "$dir/run.sh" &
echo $! >"$dir/pid"
SH
chmod +x "$WORK/restart.sh"
CA_ROTATE=(--members-dir "$WORK/members" --new-ca "$WORK/new-ca/ca.pem" --new-ca-key "$WORK/new-ca/ca-key.pem"
    --client-ca-file "$ADMIN/ca.pem" --client-cert "$ADMIN/members.pem:$ADMIN/members-key.pem"
    --restart-cmd "$WORK/restart.sh {dir}")
mkdir -p "$WORK/new-ca"

step "ca rotate plan: every step of replacing the cluster's CA (nothing is changed)"
show "$BIN" ca rotate plan "${CA_ROTATE[@]}"

step "ca rotate apply: trust both CAs, reissue every certificate, trust only the new CA; each phase proven"
show "$BIN" ca rotate apply "${CA_ROTATE[@]}"
show "$BIN" ca rotate status "${CA_ROTATE[@]}"
show "$BIN" endpoint health --cluster
