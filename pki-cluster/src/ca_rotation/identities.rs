//! The identities a CA rotation proves things with, and the connection it works through.
//!
//! - A probe certificate from each CA (minted with pki-core's `probe_certificate`, a copy of
//!   the connection's client certificate on a fresh key, valid two hours): "does this member
//!   trust the new CA yet", "does it still (or no longer) trust the old".
//! - The tool's own connection trusts both CAs (a bundle of the connection's CA file and the
//!   new CA) so that it keeps working while the members' certificates move from one CA to the
//!   other; it presents the connection's own client certificate until phase 3, then the new
//!   CA's probe certificate (the old one is refused by then).
//!
//! The files these need (the bundle, a probe key) live in a private temporary directory (0700,
//! keys 0600) removed when the rotation ends; nothing is written elsewhere.

use std::path::{Path, PathBuf};

use pki_core::{
    bundle_pem, load_certificates, probe_certificate, rebundle, Certificate, CertificateAuthority,
};
use time::OffsetDateTime;

use super::survey::issued;
use crate::connection::{ConnectOptions, Connection};
use crate::error::{Error, Result};
use crate::probe::Identity;

/// How long a probe certificate is valid.
const PROBE_LIFETIME: time::Duration = time::Duration::hours(2);

/// A client identity of one CA.
#[derive(Debug)]
pub(crate) struct ProbeIdentity {
    /// For the probes.
    pub(crate) identity: Identity,
    cert_file: PathBuf,
    key_file: PathBuf,
}

/// The tool's identities and connections for a rotation.
#[derive(Debug)]
pub(crate) struct Identities {
    /// Removed (with the files in it) when dropped.
    _dir: tempfile::TempDir,
    base: ConnectOptions,
    bundle: PathBuf,
    /// A probe certificate from the new CA (when its key is at hand).
    pub(crate) new: Option<ProbeIdentity>,
    /// One from the old CA: minted when its key is at hand, else the connection's own when the
    /// old CA issued it.
    pub(crate) old: Option<ProbeIdentity>,
}

impl Identities {
    /// Mints the probes and writes the bundle (the connection's CA file with `old` and `new`).
    pub(crate) fn new(
        conn: &Connection,
        old: Option<&Certificate>,
        new: &Certificate,
        old_ca: Option<&CertificateAuthority>,
        new_ca: Option<&CertificateAuthority>,
        at: OffsetDateTime,
    ) -> Result<Identities> {
        let dir = tempfile::Builder::new()
            .prefix("etcd-pki-ca-rotation")
            .tempdir()
            .map_err(|e| Error::Input(format!("cannot make a private temporary directory: {e}")))?;
        let base = conn.options().clone();
        let mut cas: Vec<Certificate> = match &base.ca_file {
            Some(f) => load_certificates(f)?,
            None => Vec::new(),
        };
        let mut ours: Vec<&Certificate> = old.into_iter().collect();
        ours.push(new);
        cas = rebundle(&cas, &ours, &ours).unwrap_or_else(|| {
            cas.iter()
                .cloned()
                .chain(ours.iter().map(|c| (*c).clone()))
                .collect()
        });
        let bundle = dir.path().join("ca-bundle.pem");
        write_private(&bundle, bundle_pem(&cas).as_bytes())?;

        let template = match conn.client_files() {
            Some((cert, _)) => load_certificates(cert)?.into_iter().next(),
            None => None,
        };
        let mint = |name: &str, ca: &CertificateAuthority| -> Result<ProbeIdentity> {
            let (certificate, key_pem) =
                probe_certificate(template.as_ref(), ca, PROBE_LIFETIME, at)?;
            let cert_file = dir.path().join(format!("{name}.pem"));
            let key_file = dir.path().join(format!("{name}-key.pem"));
            write_private(&cert_file, certificate.to_pem().as_bytes())?;
            write_private(&key_file, &key_pem)?;
            Ok(ProbeIdentity {
                identity: Identity {
                    certs_pem: certificate.to_pem().into_bytes(),
                    key_pem,
                },
                cert_file,
                key_file,
            })
        };
        let new_probe = new_ca.map(|ca| mint("new-ca-probe", ca)).transpose()?;
        let old_probe = match (old_ca, conn.client_files(), old, &template) {
            (Some(ca), ..) => Some(mint("old-ca-probe", ca)?),
            (None, Some((cert, key)), Some(old), Some(t)) if issued(t, old) => {
                Some(ProbeIdentity {
                    identity: Identity::from_files(cert, key)?,
                    cert_file: cert.to_path_buf(),
                    key_file: key.to_path_buf(),
                })
            }
            _ => None,
        };
        Ok(Identities {
            _dir: dir,
            base,
            bundle,
            new: new_probe,
            old: old_probe,
        })
    }

    /// A connection that trusts both CAs and presents the connection's own client certificate.
    pub(crate) fn connection(&self) -> Result<Connection> {
        let mut options = self.base.clone();
        options.ca_file = Some(self.bundle.clone());
        Connection::new(options)
    }

    /// A connection that trusts both CAs and presents the new CA's probe certificate (phase 3
    /// on); the connection's own without one.
    pub(crate) fn new_ca_connection(&self) -> Result<Connection> {
        let Some(new) = &self.new else {
            return self.connection();
        };
        let mut options = self.base.clone();
        options.ca_file = Some(self.bundle.clone());
        options.cert_file = Some(new.cert_file.clone());
        options.key_file = Some(new.key_file.clone());
        Connection::new(options)
    }
}

/// Writes a file only this user can read (in the private directory).
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    f.write_all(bytes)
        .map_err(|e| Error::Input(format!("{}: {e}", path.display())))
}
