//! Outcomes and exit codes.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | everything checked out |
//! | 1 | a check found a problem (a certificate that would not work, a refused membership change) |
//! | 2 | bad input or usage: a missing or unreadable file, a malformed certificate or key, a bad flag |
//! | 3 | etcd unreachable, timed out, or refused the request |

use std::fmt;

/// What a command that ran to completion found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report.
    Ok,
    /// A check found a problem; the command already printed it.
    ProblemsFound,
}

/// The exit code classes of failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Code {
    /// Exit 1: the command's own checks refused to go on.
    Problem = 1,
    /// Exit 2: bad input or usage.
    Usage = 2,
    /// Exit 3: etcd unreachable or refused.
    Etcd = 3,
}

/// A failure with the exit code it maps to.
pub struct Failure {
    pub code: Code,
    pub error: anyhow::Error,
}

impl Failure {
    /// Whether the failure is only that stdout was closed by its reader.
    pub fn is_broken_pipe(&self) -> bool {
        self.error.chain().any(|cause| {
            cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
        })
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit {}: {:#}", self.code as u8, self.error)
    }
}

/// Bad input or usage (exit 2).
pub fn usage(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: Code::Usage,
        error: error.into(),
    }
}

/// Any error: I/O on stdout and everything not classified is treated as bad input (exit 2).
impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        usage(error)
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        usage(error)
    }
}

/// pki-core's errors, in this CLI's words ([`crate::errors::core_error_text`]).
impl From<pki_core::Error> for Failure {
    fn from(error: pki_core::Error) -> Self {
        let code = match error {
            // Not bad input: a person must look (a file changed since an interrupted write), or
            // wait (another write runs in the same directory).
            pki_core::Error::RecoveryConflict { .. } | pki_core::Error::WriteInProgress { .. } => {
                Code::Problem
            }
            _ => Code::Usage,
        };
        Failure {
            code,
            error: anyhow::Error::new(crate::errors::CoreError(error)),
        }
    }
}

pub type Result<T, E = Failure> = std::result::Result<T, E>;
