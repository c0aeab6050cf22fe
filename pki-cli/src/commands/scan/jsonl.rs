//! `scan -w jsonl`: JSON lines, written as the scan hands rows over (pki-core's `scan_each`),
//! never collected, so that memory is bounded by the CAs and the list of files whatever the
//! number of certificates.
//!
//! One object a line: first each certificate, with the fields of an entry of `-w json`'s
//! `certificates`; then each skipped file, damaged file and unfinished write, with the fields of
//! `-w json`'s `skipped`, `malformed` and `interrupted` entries and a `record` field that says
//! which, and with `--probe`/`--cluster` each endpoint as `-w json`'s `served` entries, with
//! `"record": "served"` (docs/json.md).

use std::io::{self, BufWriter, Write};

use pki_core::{scan_each, ScanOptions, ScanTail};
use serde::Serialize;

use crate::exit::{Failure, Result};

/// A line that is not a certificate: what it is, then its fields.
#[derive(Serialize)]
struct Record<'a, T: Serialize> {
    record: &'static str,
    #[serde(flatten)]
    entry: &'a T,
}

/// Scans `dirs`, writing each row as it comes, the tail after, then what each probed endpoint
/// served (`"record": "served"`); whether a row had a problem, and the tail.
pub fn write(
    dirs: &[std::path::PathBuf],
    opts: &ScanOptions,
    served: &[crate::commands::served::ServedJson],
) -> Result<(bool, ScanTail)> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut problems = false;
    let tail = scan_each(dirs, opts, |row| {
        problems |= !row.problems.is_empty();
        line(&mut out, &row).map_err(Failure::from)
    })?;
    for (record, entries) in [("skipped", &tail.skipped), ("malformed", &tail.malformed)] {
        for entry in entries {
            line(&mut out, &Record { record, entry })?;
        }
    }
    for entry in &tail.interrupted {
        line(
            &mut out,
            &Record {
                record: "interrupted",
                entry,
            },
        )?;
    }
    for entry in served {
        line(
            &mut out,
            &Record {
                record: "served",
                entry,
            },
        )?;
    }
    out.flush()?;
    Ok((problems, tail))
}

/// One value as a line of compact JSON.
fn line(out: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(io::Error::from)?;
    out.write_all(b"\n")
}
