//! Differential tests of etcd-pki's host decisions against Go itself, under each Go that etcd
//! ships with (Go 1.19 for etcd 3.4, Go 1.24 for etcd 3.5): `etcd-pki check --host`'s parsing
//! and coverage against `VerifyHostname` (and `net/http`'s server name for URLs), and pki-core's
//! port of etcd's listener-side `checkCertSAN` against etcd's own code. No etcd runs here.
//!
//! - `fixed_seed`: a seeded run of 20,000 host pairs per Go version, one oracle process each;
//! - `regressions`: every disagreement ever found, by name;
//! - `long_run` (ignored; `make fuzz-go SEED=... N=...`): long runs with any seed.

mod fixed_seed;
mod keypair;
mod keypair_regressions;
mod long_run;
mod oracle_setup;
mod regressions;
