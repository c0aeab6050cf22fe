//! Which CA in a scan's trees issued a certificate.
//!
//! Issuers are matched as Go selects parents: by name, then key identifier (the certificate's
//! authority key ID against the CA's subject key ID). Where those identify exactly one CA that
//! may issue, that CA is named without checking the signature, as `kubeadm certs
//! check-expiration` does; otherwise (no key identifiers, several candidates) the signature
//! decides, so a certificate from a foreign CA with the same name is not mistaken for one of
//! ours either way. [`crate::ScanOptions::verify_signatures`] checks every signature: it proves
//! each chain link, at the cost of one signature verification per certificate (most of a scan's
//! time with ECDSA CAs).
//!
//! Of a certificate that cannot issue but names its issuer's key identifier, the first pass of a
//! scan keeps only a [`Leaf`] (unless every signature is checked); where the key identifier does
//! not single out its CA and the signature must decide, its file is read again.

use std::path::Path;

use crate::cert::Certificate;
use crate::key::PublicKeyData;
use crate::load::{parse_contents, read_file};
use crate::verify::{check_parent, find_issuer, CertPool, VerifyError};

/// What the first pass of a scan keeps of a certificate that cannot issue and has an authority
/// key ID: what names its issuer and the certificate itself, and its public key for the key
/// file beside it.
pub(crate) struct Leaf {
    /// The issuer name as shown (for "not chained").
    pub(crate) issuer: String,
    pub(crate) raw_issuer: Vec<u8>,
    pub(crate) authority_key_id: Vec<u8>,
    /// With the issuer, names this certificate: a file read again must still hold it.
    pub(crate) serial: Vec<u8>,
    /// For the key beside it.
    pub(crate) public: PublicKeyData,
}

/// Why no CA was found: the closest candidate and why it did not fit, if there was one.
pub(crate) type NotFound = Option<String>;

fn not_found(e: VerifyError) -> NotFound {
    match e {
        VerifyError::UnknownAuthority {
            hint: Some((candidate, reason)),
        } => Some(format!("CA \"{candidate}\" found but {reason}")),
        _ => None,
    }
}

/// The CA in `cas` that issued `cert`: the one CA its name and authority key ID single out, or
/// with `verify_all` (and wherever they do not) the one whose key verifies its signature.
pub(crate) fn identify_issuer<'a>(
    cert: &Certificate,
    cas: &'a CertPool,
    verify_all: bool,
) -> Result<&'a Certificate, NotFound> {
    if !verify_all {
        if let Some(ca) = identified_by_key_id(cert.raw_issuer(), cert.authority_key_id(), cas) {
            return Ok(ca);
        }
    }
    find_issuer(cert, cas).map_err(not_found)
}

/// [`identify_issuer`] for a certificate of which the first pass kept only a [`Leaf`].
pub(crate) fn identify_leaf_issuer<'a>(
    path: &Path,
    index: usize,
    leaf: &Leaf,
    cas: &'a CertPool,
) -> Result<&'a Certificate, NotFound> {
    let aki = Some(leaf.authority_key_id.as_slice());
    if let Some(ca) = identified_by_key_id(&leaf.raw_issuer, aki, cas) {
        return Ok(ca);
    }
    if cas.parents_of(&leaf.raw_issuer, aki).is_empty() {
        // No CA of that name: no signature to check.
        return Err(None);
    }
    match reread(path, index, leaf) {
        Some(cert) => find_issuer(&cert, cas).map_err(not_found),
        None => Err(Some(
            "the file changed during the scan; scan again".to_string(),
        )),
    }
}

/// The one CA that may issue, whose subject is `raw_issuer` and whose subject key ID is `aki`.
fn identified_by_key_id<'a>(
    raw_issuer: &[u8],
    aki: Option<&[u8]>,
    cas: &'a CertPool,
) -> Option<&'a Certificate> {
    aki?;
    let identified: Vec<&Certificate> = cas
        .parents_of(raw_issuer, aki)
        .into_iter()
        .filter(|ca| ca.subject_key_id() == aki)
        .collect();
    match identified.as_slice() {
        [ca] if check_parent(ca).is_ok() => Some(ca),
        _ => None,
    }
}

/// Certificate `index` of `path` read again, if it is still the one the first pass saw (same
/// issuer, key identifier and serial). Only that certificate is parsed; no key is.
pub(crate) fn reread(path: &Path, index: usize, leaf: &Leaf) -> Option<Certificate> {
    let bytes = zeroize::Zeroizing::new(read_file(path).ok()?);
    let der = parse_contents(&bytes)
        .ok()?
        .certificates
        .into_iter()
        .nth(index)?;
    Certificate::from_der(der).ok().filter(|c| {
        c.raw_issuer() == leaf.raw_issuer.as_slice()
            && c.authority_key_id() == Some(leaf.authority_key_id.as_slice())
            && c.serial_bytes() == leaf.serial.as_slice()
    })
}
