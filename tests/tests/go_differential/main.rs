//! Differential tests of etcd-pki's host decisions against Go itself, under each Go that etcd
//! ships with (Go 1.19 for etcd 3.4, Go 1.24 for etcd 3.5): `etcd-pki check --host`'s parsing
//! and coverage against `VerifyHostname` (and `net/http`'s server name for URLs), and pki-core's
//! port of etcd's listener-side `checkCertSAN` against etcd's own code. No etcd runs here.
//!
//! Key-pair acceptance is compared too: what `etcd-pki check --cert --key` decides for a
//! certificate file and a key file against Go's own `tls.X509KeyPair` (etcd's
//! `tls.LoadX509KeyPair`), on seeded files with every PEM quirk (`etcd_pki_tests::keypair_gen`).
//!
//! - `fixed_seed`: a seeded run of 20,000 host pairs per Go version, one oracle process each;
//! - `regressions`: every host disagreement ever found, by name;
//! - `keypair`: a seeded run of 5,000 certificate-file / key-file pairs per Go version;
//! - `keypair_regressions`: every key-pair disagreement ever found, by name;
//! - `long_run` (ignored; `make fuzz-go SEED=... N=... KEYPAIRS=...`): long runs with any seed,
//!   of host pairs (`long_run`) and of key pairs (`long_run_key_pairs`, `GO_FUZZ_KEYPAIRS`).

mod chain_regressions;
mod chains;
mod fixed_seed;
mod keypair;
mod keypair_regressions;
mod long_run;
mod long_run_chains;
mod oracle_setup;
mod regressions;
