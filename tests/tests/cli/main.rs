//! The offline commands (`inspect`, `check`, `scan`) run as a user runs them: the built binary on
//! certificates made by openssl and cfssl, asserting exit codes and output.

mod bad_inputs;
mod check;
mod crash;
mod init;
mod inspect;
mod paths;
mod reissue;
mod renew;
mod robustness;
mod scan;
