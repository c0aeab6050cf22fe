#!/usr/bin/env bash
# Fetches Debian packages of a release and unpacks them into a directory of their own, without
# installing them and without changing the system's apt configuration or state. `make test` uses
# it for trixie's etcd 3.5 (so that the cluster suite runs against it beside the installed 3.4),
# for trixie's Go 1.24 (the Go of etcd 3.5, under which the tests' Go oracle also runs) and for
# Prometheus' promtool and node_exporter (unpacked, not installed: installing the
# packages would start a Prometheus server and a node_exporter as services).
#
# Usage: tests/fetch-debs.sh SUITE DEST "PACKAGE..." "BINARY..."
#   e.g. tests/fetch-debs.sh trixie target/etcd-3.5 "etcd-server etcd-client" "etcd etcdctl"
#        tests/fetch-debs.sh trixie target/go-1.24 "golang-1.24-go golang-1.24-src" \
#            "usr/lib/go-1.24/bin/go"
#
# A BINARY without a '/' is DEST/root/usr/bin/BINARY; one with a '/' is that path under
# DEST/root (Go's toolchain packages put `go` in usr/lib/go-1.24/bin, not usr/bin). The first
# binary's version is shown (`--version`; `version` for a binary named go, which runs with
# GOROOT set to the directory above its bin/).
#
# Everything it writes stays under DEST: apt's lists and cache (DEST/apt), the .debs (DEST/debs)
# and the unpacked packages (DEST/root; the binaries, which must all be there, as above). apt runs with a private sources list naming the mirror of
# /etc/apt/sources.list.d/debian.sources (or /etc/apt/sources.list) with suite SUITE, private
# state directories, no lock and none of the system's update hooks; nothing is installed, the
# packages are only unpacked with `dpkg -x`. The release keys are the installed
# debian-archive-keyring's. A second run with DEST complete does nothing.
set -euo pipefail

if [ $# -ne 4 ]; then
    echo "usage: $0 SUITE DEST \"PACKAGE...\" \"BINARY...\"" >&2
    exit 2
fi
SUITE=$1
mkdir -p "$2"
DEST=$(realpath "$2")
read -r -a PACKAGES <<<"$3"
read -r -a BINARIES <<<"$4"
ROOT=$DEST/root
STAMP=$DEST/complete

# Where a BINARY argument is unpacked.
binary_path() {
    case $1 in
    */*) echo "$ROOT/$1" ;;
    *) echo "$ROOT/usr/bin/$1" ;;
    esac
}

# `etcd Version: 3.5.16`, `promtool, version 2.42.0 ...`, `go version go1.24.4 linux/amd64`: the
# first line of the first binary's. (Read whole, then cut: `| head -1` would end the binary
# with SIGPIPE while it still writes, which pipefail turns into a failure.)
version() {
    local bin out
    bin=$(binary_path "${BINARIES[0]}")
    if [ "$(basename "$bin")" = go ]; then
        out=$(GOROOT=$(dirname "$(dirname "$bin")") "$bin" version 2>&1)
    else
        out=$("$bin" --version 2>&1)
    fi
    printf '%s\n' "${out%%$'\n'*}"
}

complete=yes
for tool in "${BINARIES[@]}"; do
    [ -x "$(binary_path "$tool")" ] || complete=no
done
if [ -e "$STAMP" ] && [ $complete = yes ]; then
    echo "${PACKAGES[*]} from Debian $SUITE: already unpacked in $ROOT ($(version))"
    exit 0
fi

# The mirror and keyring the system uses for its main suite (the first deb822 stanza whose
# suites include one without a dash: bookworm, not bookworm-updates or bookworm-security).
MIRROR="" KEYRING=""
if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    read -r MIRROR KEYRING < <(awk '
        function flush() {
            if (!done && uri != "" && mainsuite) { print uri, (key == "" ? "-" : key); done = 1 }
            uri = ""; key = ""; mainsuite = 0
        }
        /^[[:space:]]*$/ { flush(); next }
        /^#/ { next }
        $1 == "URIs:" { uri = $2 }
        $1 == "Signed-By:" { key = $2 }
        $1 == "Suites:" { for (i = 2; i <= NF; i++) if ($i !~ /-/) mainsuite = 1 }
        END { flush() }
    ' /etc/apt/sources.list.d/debian.sources) || true
fi
if [ -z "$MIRROR" ] && [ -r /etc/apt/sources.list ]; then
    MIRROR=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
fi
if [ -z "$MIRROR" ]; then
    echo "$0: no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list" >&2
    exit 1
fi
if [ -z "$KEYRING" ] || [ "$KEYRING" = - ]; then
    KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
fi

APT=$DEST/apt
rm -rf "$APT" "$DEST/debs" "$ROOT" "$STAMP"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$DEST/debs" "$ROOT"
echo "deb [signed-by=$KEYRING] $MIRROR $SUITE main" >"$APT/sources.list"
# Read after the system's apt.conf.d, so it overrides it: private paths, no lock, no update hooks
# (appstream, PackageKit) that would act on the system's state, no translations or DEP-11 files.
cat >"$APT/apt.conf" <<EOF
Dir::Etc::SourceList "$APT/sources.list";
Dir::Etc::SourceParts "/dev/null";
Dir::State::Lists "$APT/lists";
Dir::Cache "$APT/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Debug::NoLocking "true";
APT::Sandbox::User "root";
Acquire::Languages "none";
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
#clear Acquire::IndexTargets::deb::DEP-11;
#clear Acquire::IndexTargets::deb::DEP-11-icons-small;
#clear Acquire::IndexTargets::deb::DEP-11-icons;
#clear Acquire::IndexTargets::deb::DEP-11-icons-hidpi;
#clear Acquire::IndexTargets::deb::Contents-deb;
EOF

echo "${PACKAGES[*]} from Debian $SUITE: fetching from $MIRROR into $DEST"
apt-get -c "$APT/apt.conf" -qq update
(cd "$DEST/debs" && apt-get -c "$APT/apt.conf" -qq download "${PACKAGES[@]/%//$SUITE}")
for deb in "$DEST"/debs/*.deb; do
    dpkg -x "$deb" "$ROOT"
done
for tool in "${BINARIES[@]}"; do
    if [ ! -x "$(binary_path "$tool")" ]; then
        echo "$0: the $SUITE packages hold no $(binary_path "$tool")" >&2
        exit 1
    fi
done
version >/dev/null
touch "$STAMP"
echo "${PACKAGES[*]} from Debian $SUITE: unpacked in $ROOT ($(version))"
