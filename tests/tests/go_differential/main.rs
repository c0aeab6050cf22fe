//! Differential tests of etcd-pki's decisions against Go itself, under each Go that etcd ships
//! with (Go 1.19 for etcd 3.4, Go 1.24 for etcd 3.5): `etcd-pki check --host`'s parsing and
//! coverage against `VerifyHostname` (and `net/http`'s server name for URLs), and pki-core's
//! port of etcd's listener-side `checkCertSAN` against etcd's own code. No etcd runs here.
//!
//! Chains too: `pki_core::verify`, `check --role`'s chain and usage findings and `scan`'s issuer
//! against Go's `Verify` (with roots, intermediates, a time and each usage) and its signature
//! checks, on seeded chains (`etcd_pki_tests::chain_gen`).
//!
//! Key-pair acceptance is compared too: what `etcd-pki check --cert --key` decides for a
//! certificate file and a key file against Go's own `tls.X509KeyPair` (etcd's
//! `tls.LoadX509KeyPair`), on seeded files with every PEM quirk (`etcd_pki_tests::keypair_gen`).
//!
//! - `fixed_seed`: a seeded run of 20,000 host pairs per Go version, one oracle process each;
//! - `regressions`: every host disagreement ever found, by name;
//! - `keypair`: a seeded run of 5,000 certificate-file / key-file pairs per Go version;
//! - `keypair_regressions`: every key-pair disagreement ever found, by name;
//! - `chains`: a seeded run of 2,000 chain cases per Go version;
//! - `chain_regressions`: every chain disagreement ever found, by name;
//! - `long_run` (ignored; `make fuzz-go SEED=... N=... KEYPAIRS=... CHAINS=...`): long runs with
//!   any seed, of host pairs (`long_run`), key pairs (`long_run_key_pairs`) and chains
//!   (`long_run_chains`).

mod chain_regressions;
mod chains;
mod fixed_seed;
mod keypair;
mod keypair_regressions;
mod long_run;
mod oracle_setup;
mod regressions;
