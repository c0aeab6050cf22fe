#!/usr/bin/env bash
# Whole-process timings of etcd-pki against the tools operators use today, in one run on one
# machine, reported as ratios (these machines are noisy; absolute times drift between runs).
#
#   bench/compare.sh [N]      (default N=10000, SCALE_N=100000; `make bench` runs it)
#
# 1. Generates a corpus of N certificates (bench/gen_corpus.py, python3-cryptography: RSA-2048
#    and ECDSA P-256 leaves from four CAs, about 5% expired), one PEM file each.
# 2. Times, with hyperfine, on that corpus: `cat` of every file (the I/O floor), `etcd-pki scan`
#    (and `scan --verify`),
#    a one-process Python scan (bench/py_scan.py), and loops of `cfssl certinfo -cert` and
#    `openssl x509 -noout -text` over a random sample of SAMPLE files (default 100), scaled per
#    certificate to N; peak memory of each with /usr/bin/time.
# 3. Times one `etcd-pki check` against one `cfssl certinfo`, `etcd-pki --version` start-up, a
#    keep-key `etcd-pki reissue` against `cfssl sign` of the same certificate's CSR, and
#    `etcd-pki preflight` against a live 3-member TLS cluster started by the test harness
#    (tests/examples/bench_cluster.rs), beside `etcdctl endpoint health --cluster`.
# 4. Scans a fleet's worth, SCALE_N certificates, with each output (bench/scale.sh, one run each
#    after a warm-up): peak RSS of the streamed outputs (`-w jsonl`, `-w prometheus`) against
#    64 MB, and time per certificate against the N-certificate scan (linear).
# 5. Writes the table to $OUT (default bench/results.md) and prints it.
#
# Needs: hyperfine, cfssl, openssl, /usr/bin/python3 with python3-cryptography, GNU time, etcd
# (`make bench` installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=${1:-${N:-10000}}
SCALE_N=${SCALE_N:-100000}
SAMPLE=${SAMPLE:-100}
RUNS=${RUNS:-10}
OUT=${OUT:-bench/results.md}
WORK=$(mktemp -d /tmp/etcd-pki-bench.XXXXXX)
CLUSTER_PID=""
cleanup() {
    if [ -n "$CLUSTER_PID" ]; then
        touch "$WORK/stop"
        wait "$CLUSTER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

for tool in hyperfine cfssl openssl etcd etcdctl /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing: run make bench" >&2; exit 2; }
done
/usr/bin/python3 -c 'import cryptography' 2>/dev/null ||
    { echo "bench: python3-cryptography is missing: run make bench" >&2; exit 2; }

echo "== building (release)" >&2
cargo build --release -q -p pki-cli
cargo build --release -q -p etcd-pki-tests --example bench_cluster
BIN=$ROOT/target/release/etcd-pki

echo "== corpus: $N certificates" >&2
/usr/bin/python3 bench/gen_corpus.py "$WORK/corpus" "$N"
find "$WORK/corpus" -type f | sort >"$WORK/list"
shuf -n "$SAMPLE" --random-source=<(yes) "$WORK/list" >"$WORK/sample"
FILES=$(wc -l <"$WORK/list")
BYTES=$(xargs -a "$WORK/list" cat | wc -c)

hf() { # name, then hyperfine arguments
    local name=$1
    shift
    hyperfine --style basic --export-json "$WORK/$name.json" "$@" >&2
}

echo "== scan of the corpus" >&2
hf scan -N --warmup 2 --runs "$RUNS" -i \
    -n cat "xargs -a $WORK/list cat" \
    -n etcd-pki "$BIN scan $WORK/corpus" \
    -n etcd-pki-verify "$BIN scan --verify $WORK/corpus" \
    -n python "/usr/bin/python3 bench/py_scan.py $WORK/corpus"
hf loops --warmup 1 --runs 3 \
    -n cfssl "while read -r f; do cfssl certinfo -cert \"\$f\" >/dev/null; done <$WORK/sample" \
    -n openssl "while read -r f; do openssl x509 -noout -text -in \"\$f\" >/dev/null; done <$WORK/sample"

rss() { { /usr/bin/time -f %M "$@" 2>&1 >/dev/null || true; } | tail -1; }
RSS_SCAN=$(rss "$BIN" scan "$WORK/corpus")
RSS_PY=$(rss /usr/bin/python3 bench/py_scan.py "$WORK/corpus")
RSS_CAT=$(rss xargs -a "$WORK/list" cat)

echo "== $SCALE_N certificates, each output" >&2
BIN=$BIN RUNS=1 CORPORA=$WORK OUT=$WORK/scale.md TSV=$WORK/scale.tsv bench/scale.sh "$SCALE_N" >/dev/null
rm -rf "$WORK/corpus-$SCALE_N"

echo "== one certificate, start-up, reissue" >&2
ONE=fixtures/cfssl/members.pem
hf one -N --warmup 5 --runs $((RUNS * 3)) \
    -n check "$BIN check --cert $ONE --cacert fixtures/cfssl/ca.pem --role peer --host 127.0.0.11" \
    -n cfssl "cfssl certinfo -cert $ONE" \
    -n version "$BIN --version" \
    -n openssl "openssl x509 -noout -text -in $ONE"
cp fixtures/cfssl/{ca.pem,ca-key.pem,members.pem,members-key.pem,members.csr} "$WORK/"
hf reissue -N --warmup 3 --runs $((RUNS * 2)) --prepare "rm -f $WORK/out.pem" \
    -n reissue "$BIN reissue --cacert $WORK/ca.pem --ca-key $WORK/ca-key.pem --cert $WORK/members.pem --add-ip 127.0.0.14 --out $WORK/out.pem" \
    -n cfssl-sign "cfssl sign -ca $WORK/ca.pem -ca-key $WORK/ca-key.pem -hostname 127.0.0.1,127.0.0.11,127.0.0.12,127.0.0.13,127.0.0.14 $WORK/members.csr"

echo "== preflight against a live 3-member TLS cluster" >&2
"$ROOT/target/release/examples/bench_cluster" "$WORK" >"$WORK/cluster.log" 2>&1 &
CLUSTER_PID=$!
for _ in $(seq 600); do [ -f "$WORK/cluster.env" ] && break; sleep 0.1; done
[ -f "$WORK/cluster.env" ] || { echo "bench: the cluster did not start:" >&2; cat "$WORK/cluster.log" >&2; exit 1; }
# shellcheck disable=SC1091
source "$WORK/cluster.env"
CONN="--endpoints $ENDPOINTS --cacert $CACERT --cert $CERT --key $KEY"
"$BIN" preflight infra3 --peer-urls "$NEW_PEER_URL" --peer-cert "$PEER_CERT" --peer-key "$PEER_KEY" \
    --server-cert "$SERVER_CERT" $CONN >"$WORK/preflight.out" ||
    { echo "bench: preflight did not pass:" >&2; cat "$WORK/preflight.out" >&2; exit 1; }
hf preflight -N --warmup 2 --runs "$RUNS" \
    -n preflight "$BIN preflight infra3 --peer-urls $NEW_PEER_URL --peer-cert $PEER_CERT --peer-key $PEER_KEY --server-cert $SERVER_CERT $CONN" \
    -n etcdctl-health "etcdctl --endpoints $ENDPOINTS --cacert $CACERT --cert $CERT --key $KEY endpoint health --cluster"

echo "== report" >&2
/usr/bin/python3 - "$WORK" "$N" "$FILES" "$BYTES" "$SAMPLE" "$RSS_SCAN" "$RSS_PY" "$RSS_CAT" "$SCALE_N" >"$OUT" <<'PY'
import json, os, platform, subprocess, sys
work, n, files, size, sample = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rss_scan, rss_py, rss_cat = (int(x) for x in sys.argv[6:9])
scale_n = int(sys.argv[9])
# bench/scale.sh's figures: output -> (wall seconds, KB)
scale = {f: (float(t), int(kb)) for _, f, t, _cpu, kb in
         (line.split("\t") for line in open(os.path.join(work, "scale.tsv")).read().splitlines())}

def mean(group, name):
    for r in json.load(open(os.path.join(work, group + ".json")))["results"]:
        if r["command"] == name:
            return r["mean"], r["stddev"]
    raise KeyError(name)

def ms(s):
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"

def out(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except Exception:
        return "?"

cat, cat_sd = mean("scan", "cat")
scan, scan_sd = mean("scan", "etcd-pki")
scan_verify, scan_verify_sd = mean("scan", "etcd-pki-verify")
py, py_sd = mean("scan", "python")
cfssl_loop, _ = mean("loops", "cfssl")
openssl_loop, _ = mean("loops", "openssl")
cfssl_per, openssl_per = cfssl_loop / sample, openssl_loop / sample
scan_per = scan / n
check, _ = mean("one", "check")
certinfo, _ = mean("one", "cfssl")
version, _ = mean("one", "version")
openssl_one, _ = mean("one", "openssl")
reissue, _ = mean("reissue", "reissue")
sign, _ = mean("reissue", "cfssl-sign")
preflight, pf_sd = mean("preflight", "preflight")
health, _ = mean("preflight", "etcdctl-health")

def row(what, ours, theirs, ratio, target, ok):
    return f"| {what} | {ours} | {theirs} | {ratio} | {target} | {'yes' if ok else '**no**'} |"

cpu = out("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
versions = "; ".join([
    out("openssl version"),
    "cfssl " + out("cfssl version | head -1"),
    "python3-cryptography " + out("/usr/bin/python3 -c 'import cryptography; print(cryptography.__version__)'"),
    out("etcd --version | head -1"),
    out("hyperfine --version"),
])
print("# etcd-pki benchmarks\n")
print(f"Measured by `bench/compare.sh {n}` on {os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}; "
      f"{versions}.\n")
print(f"Corpus: {files} files, {size / 1e6:.1f} MB of PEM, {n} leaf certificates (RSA-2048 and ECDSA P-256, "
      f"four CAs, ~5% expired, ~5% expiring within 30 days). Times are hyperfine means; loops over "
      f"{sample} random files, scaled per certificate.\n")
print("| measurement | etcd-pki | baseline | ratio | target | met |")
print("|---|---|---|---|---|---|")
print(row("scan of the corpus vs `cat` of the same files (I/O floor)", f"{ms(scan)} ± {ms(scan_sd)}", f"cat {ms(cat)} ± {ms(cat_sd)}",
          f"{scan / cat:.2f}x cat", "within 2x", scan / cat <= 2))
print(row("`scan --verify` (every signature checked) vs `cat`", f"{ms(scan_verify)} ± {ms(scan_verify_sd)}", f"cat {ms(cat)}",
          f"{scan_verify / cat:.2f}x cat", "-", True))
print(row("scan vs one-process Python (python3-cryptography)", ms(scan), f"python {ms(py)}",
          f"{py / scan:.1f}x faster", "at least 3x", py / scan >= 3))
print(row("per certificate: scan vs `cfssl certinfo` loop", f"{scan_per * 1e6:.0f} us", f"cfssl {cfssl_per * 1e3:.2f} ms",
          f"{cfssl_per / scan_per:.0f}x faster", "about 250x", cfssl_per / scan_per >= 200))
print(row("per certificate: scan vs `openssl x509 -text` loop", f"{scan_per * 1e6:.0f} us", f"openssl {openssl_per * 1e3:.2f} ms",
          f"{openssl_per / scan_per:.0f}x faster", "-", True))
print(row("scan peak RSS", f"{rss_scan / 1024:.1f} MB", f"python {rss_py / 1024:.1f} MB, cat {rss_cat / 1024:.1f} MB",
          "-", "under 64 MB", rss_scan < 64 * 1024))
streamed_rss = max(scale["jsonl"][1], scale["prometheus"][1])
print(row(f"scan of {scale_n:,} certificates, streamed: peak RSS", f"jsonl {scale['jsonl'][1] / 1024:.1f} MB, prometheus {scale['prometheus'][1] / 1024:.1f} MB",
          f"`-w json` (whole report) {scale['json'][1] / 1024:.1f} MB", "-", "under 64 MB", streamed_rss < 64 * 1024))
slowest = max(scale["jsonl"][0], scale["prometheus"][0])
per_cert_ratio = (slowest / scale_n) / scan_per
print(row(f"scan of {scale_n:,} certificates, streamed: time", f"jsonl {ms(scale['jsonl'][0])}, prometheus {ms(scale['prometheus'][0])}",
          f"`-w json` {ms(scale['json'][0])}", f"{per_cert_ratio:.2f}x the per-certificate time at {n:,}",
          "linear (within 1.5x)", per_cert_ratio <= 1.5))
print(row("`check` of one certificate vs one `cfssl certinfo`", ms(check), f"cfssl {ms(certinfo)}",
          f"{certinfo / check:.1f}x faster", "at least 3x", certinfo / check >= 3))
print(row("`etcd-pki --version` start-up", ms(version), f"openssl x509 -text of one file {ms(openssl_one)}",
          "-", "no async runtime", True))
print(row("keep-key `reissue` (RSA-2048 CA) vs `cfssl sign` of its CSR", ms(reissue), f"cfssl {ms(sign)}",
          f"{sign / reissue:.1f}x faster", "under 20 ms", reissue < 0.020))
print(row("`preflight` against a healthy 3-member TLS cluster", f"{ms(preflight)} ± {ms(pf_sd)}", f"etcdctl endpoint health --cluster {ms(health)}",
          f"{preflight / health:.1f}x etcdctl", "under 1 s", preflight < 1))
PY
cat "$OUT"
