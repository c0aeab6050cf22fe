//! The offline commands (`inspect`, `check`, `scan`) run as a user runs them: the built binary on
//! certificates made by openssl and cfssl, asserting exit codes and output.
//!
//! `help`, `outputs` and `writes` pin every help text and the output of every offline command in
//! each format as insta snapshots (`snapshots/`); `help.rs` says how to review and accept a change.

mod bad_inputs;
mod ca_rotate;
mod check;
mod completion;
mod crash;
mod deploy;
mod doctor;
mod etcd_version;
mod examples;
mod help;
mod init;
mod inspect;
mod issue;
mod metrics;
mod outputs;
mod paths;
mod reissue;
mod renew;
mod repo;
mod robustness;
mod rotate;
mod scan;
mod scan_scale;
mod snap;
mod writes;
