//! Certificate expiry as x509-certificate-exporter names and labels it, so that the alerts and
//! dashboards fleets already have work on this tool's files: `x509_cert_not_before`,
//! `x509_cert_not_after` (Unix seconds) and `x509_cert_expired` (1/0), labelled `filename`,
//! `filepath`, `serial_number` (decimal) and `subject_*`/`issuer_*` for C, ST, L, O, OU and CN
//! (its default label set for file sources; its docs/metrics.md).
//!
//! The families are written whole from a [`Spool`], so that a scan's rows can come one at a
//! time ([`CertFamilies`]); a file holding two copies of one certificate would give two samples
//! with one label set, which Prometheus refuses: the spool drops the second.

use std::io::{self, Write};
use std::path::Path;

use pki_core::{NameFields, ScannedCertificate};
use time::OffsetDateTime;

use super::exposition::Labels;
use super::spool::Spool;

/// The three families, with x509-certificate-exporter's help texts in substance.
pub const NOT_BEFORE: (&str, &str) = (
    "x509_cert_not_before",
    "Unix timestamp of the certificate's NotBefore",
);
pub const NOT_AFTER: (&str, &str) = (
    "x509_cert_not_after",
    "Unix timestamp of the certificate's NotAfter",
);
pub const EXPIRED: (&str, &str) = (
    "x509_cert_expired",
    "1 if the certificate is expired (NotAfter in the past), 0 otherwise",
);

/// The three, in the order written.
const FAMILIES: &[(&str, &str)] = &[NOT_BEFORE, NOT_AFTER, EXPIRED];

/// One certificate's labels and validity.
pub struct CertSeries {
    pub labels: Labels,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl CertSeries {
    /// From a scan's row.
    pub fn of_scanned(c: &ScannedCertificate) -> CertSeries {
        CertSeries {
            labels: labels(
                &c.path,
                &c.serial_number,
                &c.subject_fields,
                &c.issuer_fields,
            ),
            not_before: c.not_before,
            not_after: c.not_after,
        }
    }

    /// The samples of the three families, in their order, with expiry judged at `at`.
    fn values(&self, at: OffsetDateTime) -> [f64; 3] {
        [
            self.not_before.unix_timestamp() as f64,
            self.not_after.unix_timestamp() as f64,
            f64::from(u8::from(self.not_after < at)),
        ]
    }
}

/// The labels x509-certificate-exporter gives a certificate from a file, in its order.
fn labels(path: &Path, serial: &str, subject: &NameFields, issuer: &NameFields) -> Labels {
    let filename = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    vec![
        ("filename", filename),
        ("filepath", pki_core::display_path(path).to_string()),
        ("issuer_C", issuer.country.clone()),
        ("issuer_CN", issuer.common_name.clone()),
        ("issuer_L", issuer.locality.clone()),
        ("issuer_O", issuer.organization.clone()),
        ("issuer_OU", issuer.organizational_unit.clone()),
        ("issuer_ST", issuer.state.clone()),
        ("serial_number", serial.to_string()),
        ("subject_C", subject.country.clone()),
        ("subject_CN", subject.common_name.clone()),
        ("subject_L", subject.locality.clone()),
        ("subject_O", subject.organization.clone()),
        ("subject_OU", subject.organizational_unit.clone()),
        ("subject_ST", subject.state.clone()),
    ]
}

/// The three families of certificates that come one at a time, with expiry judged at one
/// instant.
pub struct CertFamilies {
    spool: Spool,
    at: OffsetDateTime,
}

impl CertFamilies {
    /// No certificate yet; expiry judged at `at`.
    pub fn new(at: OffsetDateTime) -> CertFamilies {
        CertFamilies {
            spool: Spool::new(FAMILIES),
            at,
        }
    }

    /// Adds a certificate's samples (dropped when its label set came before).
    pub fn add(&mut self, cert: &CertSeries) -> io::Result<()> {
        self.spool.add(&cert.labels, &cert.values(self.at))
    }

    /// Writes the families, each whole, as the format requires.
    pub fn write(self, out: &mut (impl Write + ?Sized)) -> io::Result<()> {
        self.spool.write(out)
    }
}
