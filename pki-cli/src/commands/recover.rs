//! `etcd-pki recover`: finish or undo interrupted writes in directories, from their journals.

use std::path::Path;

use pki_core::{display_path, recover, serde_path, Error, RecoveryOutcome, RecoveryReport};
use serde::Serialize;

use crate::cli::{ChangeFormat, RecoverArgs};
use crate::errors::core_error_text;
use crate::exit::{Code, Failure, Outcome, Result};
use crate::output::{print, print_json};
use crate::unfinished::recovered_line;

#[derive(Serialize)]
struct DirJson<'a> {
    #[serde(serialize_with = "serde_path::path")]
    dir: &'a Path,
    recovered: Vec<RecoveredJson<'a>>,
    in_progress: &'a [pki_core::InterruptedWrite],
    #[serde(serialize_with = "serde_path::paths")]
    removed_temporaries: &'a [std::path::PathBuf],
    error: Option<String>,
}

#[derive(Serialize)]
struct RecoveredJson<'a> {
    #[serde(serialize_with = "serde_path::path")]
    journal: &'a Path,
    operation: &'a str,
    outcome: &'static str,
    #[serde(serialize_with = "serde_path::paths")]
    files: &'a [std::path::PathBuf],
}

pub fn run(args: &RecoverArgs) -> Result<Outcome> {
    let mut results: Vec<(&Path, Result<RecoveryReport, Error>)> = Vec::new();
    for dir in &args.dirs {
        if !dir.is_dir() {
            return Err(crate::exit::usage(anyhow::anyhow!(
                "{} is not a directory: give the directory that holds the certificate files",
                display_path(dir)
            )));
        }
        results.push((dir, recover(dir)));
    }
    let unfinished = results.iter().any(|(_, r)| match r {
        Ok(report) => !report.in_progress.is_empty(),
        Err(_) => true,
    });
    match args.write_out {
        ChangeFormat::Json => {
            let empty = RecoveryReport::default();
            let rows: Vec<DirJson> = results
                .iter()
                .map(|(dir, r)| {
                    let report = r.as_ref().unwrap_or(&empty);
                    DirJson {
                        dir,
                        recovered: report
                            .recovered
                            .iter()
                            .map(|x| RecoveredJson {
                                journal: &x.journal,
                                operation: &x.operation,
                                outcome: match x.outcome {
                                    RecoveryOutcome::RolledForward => "rolled_forward",
                                    _ => "rolled_back",
                                },
                                files: &x.files,
                            })
                            .collect(),
                        in_progress: &report.in_progress,
                        removed_temporaries: &report.removed_temporaries,
                        error: r.as_ref().err().map(core_error_text),
                    }
                })
                .collect();
            print_json(&rows)?;
        }
        ChangeFormat::Simple => {
            let mut text = String::new();
            for (dir, r) in &results {
                let dir_text = display_path(dir);
                match r {
                    Ok(report) if report.is_empty() => {
                        text.push_str(&format!("{dir_text}: no unfinished write\n"))
                    }
                    Ok(report) => {
                        for x in &report.recovered {
                            text.push_str(&format!("{dir_text}: {}\n", recovered_line(x)));
                        }
                        for t in &report.removed_temporaries {
                            text.push_str(&format!(
                                "{dir_text}: removed {}, a temporary file of a killed write\n",
                                display_path(t)
                            ));
                        }
                        for w in &report.in_progress {
                            text.push_str(&format!(
                                "{dir_text}: a write is running right now ({}): left alone; run recover again once it has ended\n",
                                display_path(&w.path)
                            ));
                        }
                    }
                    Err(e) => text.push_str(&format!("{dir_text}: {}\n", core_error_text(e))),
                }
            }
            print(&text)?;
        }
    }
    if let Some((_, Err(e))) = results.iter().find(|(_, r)| r.is_err()) {
        if !matches!(e, Error::RecoveryConflict { .. }) {
            return Err(Failure {
                code: Code::Usage,
                error: anyhow::anyhow!("{}", core_error_text(e)),
            });
        }
    }
    Ok(if unfinished {
        Outcome::ProblemsFound
    } else {
        Outcome::Ok
    })
}
