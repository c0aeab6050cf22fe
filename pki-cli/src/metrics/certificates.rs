//! Certificate expiry as x509-certificate-exporter names and labels it, so that the alerts and
//! dashboards fleets already have work on this tool's files: `x509_cert_not_before`,
//! `x509_cert_not_after` (Unix seconds) and `x509_cert_expired` (1/0), labelled `filename`,
//! `filepath`, `serial_number` (decimal) and `subject_*`/`issuer_*` for C, ST, L, O, OU and CN
//! (its default label set for file sources; its docs/metrics.md).
//!
//! A file holding two copies of one certificate would give two samples with one label set,
//! which Prometheus refuses: [`Seen`] drops the second.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, Write};
use std::path::Path;

use pki_core::{NameFields, ScannedCertificate};
use time::OffsetDateTime;

use super::exposition::{write_header, write_sample, Labels};

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

    /// The sample of `family` (one of the three constants).
    fn value(&self, family: &str, at: OffsetDateTime) -> f64 {
        match family {
            "x509_cert_not_before" => self.not_before.unix_timestamp() as f64,
            "x509_cert_not_after" => self.not_after.unix_timestamp() as f64,
            _ => f64::from(u8::from(self.not_after < at)),
        }
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

/// Label sets already written, as hashes (8 bytes a certificate, whatever the scan's size).
#[derive(Default)]
pub struct Seen(HashSet<u64>);

impl Seen {
    /// Whether `labels` is new (and remembers it).
    pub fn first(&mut self, labels: &Labels) -> bool {
        let mut h = DefaultHasher::new();
        labels.hash(&mut h);
        self.0.insert(h.finish())
    }
}

/// Writes the three families for `certs`, each family whole, as the format requires.
/// `certs` is called once per family, so that a caller can stream rows three times instead of
/// holding them.
pub fn write_families<I>(
    out: &mut (impl Write + ?Sized),
    at: OffsetDateTime,
    mut certs: impl FnMut() -> I,
) -> io::Result<()>
where
    I: Iterator<Item = CertSeries>,
{
    for (name, help) in [NOT_BEFORE, NOT_AFTER, EXPIRED] {
        let mut seen = Seen::default();
        let mut header = false;
        for c in certs() {
            if !seen.first(&c.labels) {
                continue;
            }
            if !header {
                write_header(out, name, help)?;
                header = true;
            }
            write_sample(out, name, &c.labels, c.value(name, at))?;
        }
    }
    Ok(())
}
