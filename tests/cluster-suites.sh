#!/usr/bin/env bash
# Runs the cluster suite (`cargo test -p etcd-pki-tests --test cluster`) once for each etcd
# binary directory given, one after the other, with TEST_ETCD_BIN_DIR set to it, and
# reports each version's result. Exits 1 if any run failed (every run goes ahead regardless, so
# that each version's result is known). `make test` runs it with Debian's etcd 3.4 and trixie's
# 3.5.
#
# Usage: tests/cluster-suites.sh DIR [DIR...]   (each DIR holds etcd and etcdctl)
# Extra arguments for the test binary (a test name filter, say) can be given in
# CLUSTER_TEST_ARGS.
set -uo pipefail
cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}
if [ $# -eq 0 ]; then
    echo "usage: $0 DIR [DIR...]" >&2
    exit 2
fi

summary=()
failed=0
for dir in "$@"; do
    version=$("$dir/etcd" --version 2>/dev/null | sed -n 's/^etcd Version: *//p')
    if [ -z "$version" ]; then
        summary+=("cluster suite on $dir/etcd: FAILED (no etcd there, or it printed no version)")
        failed=1
        continue
    fi
    echo "== cluster suite on etcd $version ($dir)"
    log=$(mktemp)
    # shellcheck disable=SC2086 # CLUSTER_TEST_ARGS is a list of words
    TEST_ETCD_BIN_DIR=$dir "$CARGO" test -p etcd-pki-tests --test cluster -- ${CLUSTER_TEST_ARGS:-} 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    counts=$(sed -n 's/^test result: [A-Za-z]*\. \([0-9]* passed; [0-9]* failed\).*/\1/p' "$log" | tail -1)
    rm -f "$log"
    if [ "$status" -eq 0 ]; then
        summary+=("cluster suite on etcd $version: ok (${counts:-no test result})")
    else
        summary+=("cluster suite on etcd $version: FAILED (${counts:-no test result}; exit $status)")
        failed=1
    fi
done

echo
printf '%s\n' "${summary[@]}"
exit "$failed"
