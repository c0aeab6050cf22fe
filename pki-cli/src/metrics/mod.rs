//! `-w prometheus` and `--textfile FILE`: a command's results as Prometheus metrics, for
//! node_exporter's textfile collector (or any scraper of the text format).
//!
//! Certificate expiry uses x509-certificate-exporter's series ([`certificates`]) so that
//! existing alerts work; only `scan`, the inventory of files, writes them, so that a scan and a
//! `check` or `doctor` of the same files never give node_exporter one series twice (it drops
//! duplicates, with only a log line). What only etcd's rules can tell is under `etcd_pki_`
//! ([`findings`], and the cluster's figures). Every output ends with the run's own pair,
//! `etcd_pki_last_run_timestamp_seconds{command,textfile}` and
//! `etcd_pki_run_success{command,textfile}`, so that
//! a job that stopped running, or fails before it can judge anything (etcd unreachable, a bad
//! flag), is itself alerted on: a failed run still replaces its textfile, with
//! `etcd_pki_run_success` 0. A run that found problems succeeded: the problems are in the
//! other series (and in the exit code, 1).
//!
//! With `--textfile` the metrics replace the file whole (pki-core's [`GeneratedFile`]: a
//! temporary in the same directory, fsync, rename), as the textfile collector requires; nothing
//! is printed. Without it they go to stdout.

pub mod certificates;
pub mod cluster;
pub mod exposition;
pub mod findings;
pub mod spool;

use std::io::{self, Write};
use std::path::Path;

use pki_core::GeneratedFile;
use time::OffsetDateTime;

use crate::cli::MetricsArgs;
use crate::exit::{usage, Outcome, Result};
use exposition::{write_header, write_sample};

const LAST_RUN: (&str, &str) = (
    "etcd_pki_last_run_timestamp_seconds",
    "Unix time at which this etcd-pki command last ran",
);
const RUN_SUCCESS: (&str, &str) = (
    "etcd_pki_run_success",
    "1 if the last run of this etcd-pki command could judge what it was asked to (problems found included), 0 if it failed",
);

/// Runs a command that can write metrics: refuses `--textfile` without `-w prometheus` (exit
/// 2), and records a failed run in the textfile.
pub fn guard(
    command: &'static str,
    prometheus: bool,
    args: &MetricsArgs,
    run: impl FnOnce() -> Result<Outcome>,
) -> Result<Outcome> {
    let textfile = match (&args.textfile, prometheus) {
        (Some(_), false) => {
            return Err(usage(anyhow::anyhow!(
                "--textfile writes Prometheus metrics: add -w prometheus"
            )))
        }
        (Some(path), true) => Some(path.as_path()),
        (None, _) => None,
    };
    let result = run();
    if let (Err(_), Some(path)) = (&result, textfile) {
        emit_failure(command, path);
    }
    result
}

/// Writes a command's metrics (what `body` writes, then the run's pair with success 1) to
/// `textfile` or stdout.
pub fn emit(
    command: &'static str,
    textfile: Option<&Path>,
    body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    write_to(textfile, |out| {
        body(out)?;
        run_pair(out, command, textfile, true)
    })
}

/// After a failed run: the run's pair alone, with success 0, to `textfile` (a failure of this
/// write is reported on stderr, after the failure itself).
pub fn emit_failure(command: &'static str, textfile: &Path) {
    if let Err(e) = write_to(Some(textfile), |out| {
        run_pair(out, command, Some(textfile), false)
    }) {
        eprintln!(
            "etcd-pki: error: the failed run could not be recorded in {}: {:#}",
            pki_core::display_path(textfile),
            e.error
        );
    }
}

/// The run's pair, labelled with the command and, for a textfile, its name: two jobs of one
/// command writing two textfiles into one directory (a DaemonSet's two `check`s) must not give
/// node_exporter one series twice, which it drops.
fn run_pair(
    out: &mut dyn Write,
    command: &'static str,
    textfile: Option<&Path>,
    success: bool,
) -> io::Result<()> {
    let mut labels = vec![("command", command.to_string())];
    if let Some(name) = textfile.and_then(Path::file_name) {
        labels.push(("textfile", name.to_string_lossy().into_owned()));
    }
    write_header(out, LAST_RUN.0, LAST_RUN.1)?;
    write_sample(
        out,
        LAST_RUN.0,
        &labels,
        OffsetDateTime::now_utc().unix_timestamp() as f64,
    )?;
    write_header(out, RUN_SUCCESS.0, RUN_SUCCESS.1)?;
    write_sample(out, RUN_SUCCESS.0, &labels, f64::from(u8::from(success)))
}

fn write_to(
    textfile: Option<&Path>,
    body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    match textfile {
        Some(path) => {
            let mut file = GeneratedFile::create(path)?;
            body(file.writer()).map_err(|error| pki_core::Error::Write {
                path: path.to_path_buf(),
                error,
            })?;
            file.commit()?;
        }
        None => {
            let stdout = io::stdout();
            let mut out = io::BufWriter::new(stdout.lock());
            body(&mut out)?;
            out.flush()?;
        }
    }
    Ok(())
}
