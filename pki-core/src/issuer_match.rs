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

use crate::cert::Certificate;
use crate::verify::{check_parent, find_issuer, CertPool, VerifyError};

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

/// The CA in `cas` that issued `cert`, and whether its signature was checked: the one CA its
/// name and authority key ID single out (unchecked), or with `verify_all` (and wherever they do
/// not) the one whose key verifies its signature.
pub(crate) fn identify_issuer<'a>(
    cert: &Certificate,
    cas: &'a CertPool,
    verify_all: bool,
) -> Result<(&'a Certificate, bool), NotFound> {
    if !verify_all {
        if let Some(ca) = identified_by_key_id(cert.raw_issuer(), cert.authority_key_id(), cas) {
            return Ok((ca, false));
        }
    }
    find_issuer(cert, cas)
        .map(|ca| (ca, true))
        .map_err(not_found)
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
