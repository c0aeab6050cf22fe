# The two commands of README.md: `make demo` and `make test`. Each installs, on a fresh Debian
# machine with the Rust toolchain, what it needs and nothing else.

SHELL := /bin/bash
CARGO ?= cargo
# Tools the demo and the tests run, and the Debian packages that provide them. go (golang-go, Go
# 1.19.8 on bookworm: the Go Debian's etcd 3.4 is built with) builds the tests' Go oracle,
# tests/go-oracle; strace kills commands at each system call in the crash tests; man (man-db,
# with groff) renders every page of `etcd-pki man` in the CLI tests; systemd-analyze (systemd)
# verifies deploy/systemd's units.
TOOLS := etcd etcdctl cfssl cfssljson protoc openssl go strace man systemd-analyze
# libprotobuf-dev holds google/protobuf/*.proto, which etcd-client's protos import: protoc
# without it fails ("google/protobuf/descriptor.proto: File not found"), and apt's
# --no-install-recommends leaves it out.
PACKAGES := etcd-server etcd-client golang-cfssl protobuf-compiler libprotobuf-dev openssl golang-go strace man-db systemd
FILES := /usr/include/google/protobuf/descriptor.proto
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)

# What bench/compare.sh runs beside them.
BENCH_PACKAGES := hyperfine python3-cryptography time

# Debian trixie's etcd 3.5, unpacked (not installed) inside target/ by tests/fetch-debs.sh, which
# leaves the system's apt configuration and state as they are. The cluster suite runs on it and
# on the installed etcd (bookworm's 3.4).
ETCD35_DIR := target/etcd-3.5
ETCD35_BIN := $(CURDIR)/$(ETCD35_DIR)/root/usr/bin
# Debian trixie's Go 1.24 (golang-1.24-go with its -src), unpacked the same way: the Go oracle of
# the differential tests (tests/go-oracle) runs under it as under the installed Go 1.19, since
# etcd 3.5.16 is built with Go 1.24 and etcd 3.4.23 with Go 1.19 (tests/src/go_oracle.rs finds
# it there).
GO124_DIR := target/go-1.24
# Prometheus' promtool (checks -w prometheus output, unit-tests deploy/prometheus' rules),
# node_exporter (reads the textfiles in a test) and Pushgateway (receives the Kubernetes
# CronJob's push in a test), from this machine's Debian release, unpacked
# inside target/ like etcd 3.5, where the tests find them.
DEBIAN_SUITE := $(shell . /etc/os-release && echo $$VERSION_CODENAME)
PROMETHEUS_DIR := target/prometheus
# etcd-pki-tests' test targets other than the cluster suite (tests/tests/NAME or NAME.rs), which
# run once.
OTHER_TEST_TARGETS := $(filter-out cluster,$(basename $(notdir $(wildcard tests/tests/*))))

# Where `make install` puts things: $(DESTDIR)$(PREFIX)/bin, .../share/...
PREFIX ?= /usr/local
DESTDIR ?=
# The release binary, wherever cargo builds it.
RELEASE_BIN := $(or $(CARGO_TARGET_DIR),target)/release/etcd-pki

.PHONY: deps demo test build fixtures bench etcd35 go124 prometheus lint-deps fuzz fuzz-go mutants install

## deps: install missing tools with apt-get (etcd, etcdctl, cfssl, protoc, openssl, go, strace,
## man)
deps:
	@missing=""; for t in $(TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	for f in $(FILES); do [ -e $$f ] || missing="$$missing $$f"; done; \
	if [ -n "$$missing" ]; then \
		echo "make: installing Debian packages for:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(PACKAGES) >/dev/null; \
	fi

## build: build the etcd-pki binary (debug) and every workspace binary the tests run
build: deps
	$(CARGO) build --workspace --bins

## etcd35: fetch trixie's etcd-server and etcd-client (3.5) into target/etcd-3.5 (once)
etcd35: deps
	@tests/fetch-debs.sh trixie $(ETCD35_DIR) "etcd-server etcd-client" "etcd etcdctl"

## go124: fetch trixie's Go 1.24 (golang-1.24-go, golang-1.24-src) into target/go-1.24 (once),
## for the Go oracle of etcd 3.5
go124: deps
	@tests/fetch-debs.sh trixie $(GO124_DIR) "golang-1.24-go golang-1.24-src" "usr/lib/go-1.24/bin/go"

## prometheus: fetch this release's promtool and node_exporter into target/prometheus (once);
## unpacked, not installed, since the packages would start services
prometheus: deps
	@tests/fetch-debs.sh $(DEBIAN_SUITE) $(PROMETHEUS_DIR) "prometheus prometheus-node-exporter prometheus-pushgateway" "promtool prometheus-node-exporter prometheus-pushgateway"

## demo: the seed runbook's failure, caught
demo: build
	@./demo/demo.sh target/debug/etcd-pki

## test: formatting, lints, and the whole test suite (unit, CLI, real etcd); the cluster suite
## runs on the installed etcd (3.4) and on trixie's 3.5
test: deps etcd35 go124 prometheus
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --workspace --quiet
	# One build of every target with the features `cargo test` resolves (dev-dependencies
	# included), so that the binary the tests run is not built twice with different features.
	$(CARGO) build --workspace --all-targets
	$(CARGO) test --workspace --exclude etcd-pki-tests
	$(CARGO) test -p etcd-pki-tests --lib $(addprefix --test ,$(OTHER_TEST_TARGETS))
	CARGO=$(CARGO) tests/cluster-suites.sh "$$(dirname "$$(command -v etcd)")" $(ETCD35_BIN)

## bench: etcd-pki against cat, cfssl, openssl and Python on a generated corpus (BENCHMARKS.md)
bench: deps
	@if ! command -v hyperfine >/dev/null || [ ! -x /usr/bin/time ] || ! /usr/bin/python3 -c 'import cryptography' 2>/dev/null; then \
		echo "make: installing $(BENCH_PACKAGES)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(BENCH_PACKAGES) >/dev/null; \
	fi
	./bench/compare.sh

## lint-deps: licences, bans and sources of every dependency (cargo-deny, installed if missing;
## not part of `test`: building cargo-deny takes minutes on a fresh machine)
lint-deps:
	@command -v cargo-deny >/dev/null || $(CARGO) install --locked cargo-deny
	$(CARGO) deny check bans licenses sources

## fuzz: run each cargo-fuzz target for FUZZ_SECONDS (nightly; installs cargo-fuzz if missing)
# New inputs go to fuzz/target/corpus/ (ignored), not to the committed corpora: fuzz/README.md
# says how to minimise and commit them. With -jobs=1 libFuzzer runs in a child process and
# prints its log (fuzz/fuzz-0.log) when the child ends.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := load etcd_file host reissue
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz
	cd fuzz && $(CARGO) +nightly fuzz build
	@cd fuzz && for t in $(FUZZ_TARGETS); do \
		echo "make: fuzzing $$t for $(FUZZ_SECONDS)s"; \
		mkdir -p target/corpus/$$t; \
		$(CARGO) +nightly fuzz run $$t target/corpus/$$t corpus/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -jobs=1 -workers=1 -timeout=1 -rss_limit_mb=2048 \
			-print_final_stats=1 \
			|| { echo "make: $$t failed; the failing input is in fuzz/artifacts/$$t/"; exit 1; }; \
	done

## fuzz-go: differential runs against Go 1.19 and Go 1.24 (tests/tests/go_differential): N host
## pairs per Go (default 1000000; host coverage and etcd's listener SAN check), KEYPAIRS
## certificate/key file pairs against tls.X509KeyPair (default 100000) and CHAINS chain cases
## against x509 Verify (default 100000), from SEED (default: random, printed); GO=1.19 or 1.24
## runs one Go only; disagreements are written to target/go-fuzz/SEED-ETCD[-KIND].txt
ifeq ($(origin SEED), undefined)
SEED := $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')
endif
N ?= 1000000
KEYPAIRS ?= 100000
CHAINS ?= 100000
fuzz-go: deps go124
	@echo "make: fuzz-go with SEED=$(SEED) N=$(N) KEYPAIRS=$(KEYPAIRS) CHAINS=$(CHAINS)"
	GO_FUZZ_SEED=$(SEED) GO_FUZZ_PAIRS=$(N) GO_FUZZ_KEYPAIRS=$(KEYPAIRS) GO_FUZZ_CHAINS=$(CHAINS) GO_FUZZ_GO=$(GO) $(CARGO) test -p etcd-pki-tests --test go_differential long_run -- --ignored --nocapture

## mutants: mutation testing of pki-core's host coverage, usages and chain verification with
## cargo-mutants (installed if missing): fails if pki-core's tests leave any mutant of the files in
## .cargo/mutants.toml alive; not part of `test`: it takes tens of minutes
# Equivalent mutants are excluded in .cargo/mutants.toml, with the reasons in
# pki-core/mutants-equivalent.md. Each job builds in its own copy of the tree; the report goes to
# target/mutants.out/ (missed.txt, caught.txt, ...).
MUTANTS_JOBS ?= 2
mutants:
	@command -v cargo-mutants >/dev/null || $(CARGO) install --locked cargo-mutants
	$(CARGO) mutants --jobs $(MUTANTS_JOBS) --timeout 180 --output target

## install: build the release binary and install it into $(DESTDIR)$(PREFIX) (PREFIX=/usr/local),
## with its bash, zsh and fish completions and its man pages (etcd-pki completion, etcd-pki man)
install:
	$(CARGO) build --release -p pki-cli
	install -d "$(DESTDIR)$(PREFIX)/bin" "$(DESTDIR)$(PREFIX)/share/bash-completion/completions" \
		"$(DESTDIR)$(PREFIX)/share/zsh/site-functions" \
		"$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d" "$(DESTDIR)$(PREFIX)/share/man/man1"
	install -m 0755 "$(RELEASE_BIN)" "$(DESTDIR)$(PREFIX)/bin/etcd-pki"
	"$(RELEASE_BIN)" completion bash > "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/etcd-pki"
	"$(RELEASE_BIN)" completion zsh > "$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_etcd-pki"
	"$(RELEASE_BIN)" completion fish > "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/etcd-pki.fish"
	"$(RELEASE_BIN)" man --out "$(DESTDIR)$(PREFIX)/share/man/man1"
	# Readable by everyone whatever the umask (what was redirected was made with it).
	chmod 0644 "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/etcd-pki" \
		"$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_etcd-pki" \
		"$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/etcd-pki.fish" \
		"$(DESTDIR)$(PREFIX)/share/man/man1"/etcd-pki*.1

## fixtures: regenerate fixtures/ with openssl and cfssl
fixtures: deps
	./fixtures/regen.sh
