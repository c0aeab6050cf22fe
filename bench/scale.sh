#!/usr/bin/env bash
# Wall time and peak memory of `etcd-pki scan` as the number of certificates grows, for each
# output: `-w json` (the whole report, held), `-w jsonl` and `-w prometheus` (rows streamed).
#
#   bench/scale.sh [N...]      (default: 1000 10000 100000)
#
# For each N, generates a corpus of N certificates with bench/gen_corpus.py (as compare.sh does;
# 100,000 take about five minutes), then runs each output RUNS times (default 3) with GNU time:
# the median wall time, the median CPU time (user + system: what a loaded machine changes
# least) and the largest peak RSS. Writes a Markdown table to $OUT (default bench/scale.md) and,
# with $TSV set, the same figures tab-separated (N, format, wall seconds, CPU seconds, KB) for
# compare.sh. $BIN is the binary to measure (default: built here, release), $FORMATS the
# outputs (default "json jsonl prometheus"); $CORPORA keeps the corpora between runs (default:
# a temporary directory, removed).
#
# Needs: /usr/bin/python3 with python3-cryptography, GNU time (`make bench` installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1000 10000 100000)
RUNS=${RUNS:-3}
OUT=${OUT:-bench/scale.md}
read -r -a FORMATS <<<"${FORMATS:-json jsonl prometheus}"
WORK=$(mktemp -d /tmp/etcd-pki-scale.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
CORPORA=${CORPORA:-$WORK}

[ -x /usr/bin/time ] || { echo "scale: GNU time is missing: run make bench" >&2; exit 2; }
if [ -z "${BIN:-}" ]; then
    echo "== building (release)" >&2
    cargo build --release -q -p pki-cli
    BIN=$(cargo metadata --format-version 1 --no-deps |
        /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/release/etcd-pki
fi

# One run: "wall-seconds cpu-seconds KB" of `etcd-pki scan -w FORMAT DIR` (its output discarded; exit 1, problems
# found, is expected: the corpus has expired certificates).
measure() {
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$BIN" scan -w "$1" "$2" >/dev/null || [ $? -eq 1 ]
    # The last line: before it, "Command exited with non-zero status 1".
    tail -1 "$WORK/time" | awk '{ print $1, $2 + $3, $4 }'
}

: >"$WORK/figures"
for n in "${SIZES[@]}"; do
    dir=$CORPORA/corpus-$n
    if [ ! -d "$dir" ]; then
        echo "== corpus: $n certificates" >&2
        /usr/bin/python3 bench/gen_corpus.py "$dir" "$n"
    fi
    for format in "${FORMATS[@]}"; do
        echo "== scan -w $format, $n certificates" >&2
        measure "$format" "$dir" >/dev/null # page cache warm, as for every run
        for _ in $(seq "$RUNS"); do measure "$format" "$dir"; done >"$WORK/runs"
        median() { sort -n | sed -n "$(((RUNS + 1) / 2))p"; }
        printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$format" "$(cut -d' ' -f1 "$WORK/runs" | median)" \
            "$(cut -d' ' -f2 "$WORK/runs" | median)" "$(cut -d' ' -f3 "$WORK/runs" | sort -n | tail -1)" \
            >>"$WORK/figures"
    done
done
[ -z "${TSV:-}" ] || cp "$WORK/figures" "$TSV"

{
    echo "| certificates | output | wall time | CPU time (user + system) | peak RSS |"
    echo "|---|---|---|---|---|"
    awk -F '\t' '{ printf "| %d | `-w %s` | %.2f s | %.2f s | %.1f MB |\n", $1, $2, $3, $4, $5 / 1024 }' "$WORK/figures"
} >"$OUT"
cat "$OUT"
