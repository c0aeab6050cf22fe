//! One module per command. Each `run` returns an `Outcome` or a `Failure` that carries its
//! exit code; none of them prints errors itself.

mod ca_rotate;
pub(crate) mod check;
mod completion;
mod config;
mod doctor;
pub(crate) mod endpoint;
mod init;
mod inspect;
mod inspect_url;
mod issue;
mod man;
mod member;
mod preflight;
mod recover;
mod reissue;
mod renew;
mod restore;
mod rotate;
mod scale;
mod scan;
mod served;
mod snapshot;
mod upgrade;

use crate::cli::{Cli, Command, ReportFormat, ScanFormat};
use crate::exit::{Outcome, Result};
use crate::metrics;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Inspect(args) => inspect::run(&args),
        Command::Check(args) => metrics::guard(
            "check",
            args.write_out == ReportFormat::Prometheus,
            &args.metrics,
            || check::run(&args),
        ),
        Command::Scan(args) => metrics::guard(
            "scan",
            args.write_out == ScanFormat::Prometheus,
            &args.metrics,
            || scan::run(&args),
        ),
        Command::Reissue(args) => reissue::run(&args),
        Command::Renew(args) => renew::run(&args),
        Command::Rotate(args) => rotate::run(&args),
        Command::Ca(args) => match args.command {
            crate::cli::CaCommand::Rotate(a) => ca_rotate::run(&a),
        },
        Command::Init(args) => init::run(&args),
        Command::Issue(args) => issue::run(&args),
        Command::Member(args) => member::run(&args),
        Command::Endpoint(args) => endpoint::run(&args),
        Command::Preflight(args) => metrics::guard(
            "preflight",
            args.write_out == ReportFormat::Prometheus,
            &args.metrics,
            || preflight::run(&args),
        ),
        Command::ScaleOut(args) => scale::run_out(&args),
        Command::ScaleIn(args) => scale::run_in(&args),
        Command::Snapshot(args) => snapshot::run(&args),
        Command::Config(args) => config::run(&args),
        Command::Doctor(args) => metrics::guard(
            "doctor",
            args.write_out == ReportFormat::Prometheus,
            &args.metrics,
            || doctor::run(&args),
        ),
        Command::Recover(args) => recover::run(&args),
        Command::Upgrade(args) => upgrade::run(&args),
        Command::Completion(args) => completion::run(&args),
        Command::Man(args) => man::run(&args),
    }
}
