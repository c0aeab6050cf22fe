//! Tests against real TLS etcd clusters started by the harness (`etcd_pki_tests::cluster`): the
//! certificates etcd-pki makes and fixes must be the ones etcd accepts.

mod ca_rotation;
mod deploy;
mod doctor;
mod examples;
mod go_oracle;
mod go_rules;
mod issue;
mod membership;
mod metrics;
mod pki;
mod probe;
mod restore;
mod robustness;
mod rotate;
mod upgrade;
mod workflow;
