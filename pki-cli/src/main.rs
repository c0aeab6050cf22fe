//! `etcd-pki`: keep an etcd cluster's TLS certificates and its membership in step.
//!
//! The binary is thin: it parses flags, runs one command, prints errors once with their context
//! chain, and maps outcomes to exit codes (0 ok, 1 a check found a problem, 2 bad input or usage,
//! 3 etcd unreachable or refused). Offline commands never start an async runtime.

// The doc comments of cli.rs are the --help text, written for a terminal: `NAME.bak.<timestamp>`
// there is not an HTML tag.
#[allow(rustdoc::invalid_html_tags)]
mod cli;
mod commands;
mod connection;
mod errors;
mod exec;
mod exit;
mod metrics;
mod output;
mod render;
mod unfinished;

use std::process::ExitCode;

use clap::Parser;

use crate::exit::{Failure, Outcome};

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; everything else is bad usage (exit 2).
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match commands::run(cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::ProblemsFound) => ExitCode::from(1),
        Err(failure) => report(failure),
    }
}

fn report(failure: Failure) -> ExitCode {
    if failure.is_broken_pipe() {
        // The reader went away (`etcd-pki scan / | head`): not an error.
        return ExitCode::SUCCESS;
    }
    eprintln!("etcd-pki: error: {:#}", failure.error);
    ExitCode::from(failure.code as u8)
}
