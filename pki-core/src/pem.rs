//! PEM framing and encoding.
//!
//! Framing finds the blocks of a text as Go's `pem.Decode` finds them, with every block's label,
//! so that [`crate::load`] can name what a file holds (an encrypted key, a CSR) instead of
//! silently skipping it; the base64 of certificate blocks is decoded here, that of keys by
//! rustls-pki-types in [`crate::load`]. Encoding writes what this crate writes (certificates and
//! keys) with LF line endings and 64-column lines, as openssl, cfssl and kubeadm write them.

use crate::error::{Error, Result};

/// Encodes DER as one PEM block with the given label.
pub fn encode(label: &str, der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(label, der), config)
}

/// The contents of a certificate file with its first certificate replaced and everything else
/// (intermediates that follow, a key in the same file, comments) kept byte for byte. A DER file
/// stays DER.
pub(crate) fn replace_first_certificate(original: &[u8], new_der: &[u8]) -> Result<Vec<u8>> {
    let sections = split_pem(original)?;
    let Some(first) = sections.iter().find(|s| s.label == "CERTIFICATE") else {
        // No PEM certificate: the file is a DER certificate.
        return Ok(new_der.to_vec());
    };
    let start = first.text.as_ptr() as usize - original.as_ptr() as usize;
    let end = start + first.text.len();
    let mut out = Vec::with_capacity(original.len() + 512);
    out.extend_from_slice(&original[..start]);
    // The framed block ends with its END line's newline (or the end of the file), as does
    // what encode() returns.
    out.extend_from_slice(encode("CERTIFICATE", new_der).as_bytes());
    out.extend_from_slice(&original[end..]);
    Ok(out)
}

/// One PEM block as framed in the text.
pub(crate) struct PemSection<'a> {
    /// The label between `BEGIN ` and the dashes.
    pub(crate) label: &'a str,
    /// The text from the BEGIN line through the END line.
    pub(crate) text: &'a [u8],
    /// Whether RFC 1421 headers say the body is encrypted (`Proc-Type: 4,ENCRYPTED`).
    pub(crate) encrypted: bool,
}

/// Splits text into PEM blocks; text between blocks (openssl's "Bag Attributes", comments) is
/// ignored as OpenSSL and Go do. A file in which no block can be framed but one was damaged is
/// malformed; see [`frame_pem`].
pub(crate) fn split_pem(bytes: &[u8]) -> Result<Vec<PemSection<'_>>> {
    let mut damaged = Vec::new();
    let sections = frame_pem(bytes, &mut damaged);
    match damaged.into_iter().next() {
        Some(reason) if sections.is_empty() => Err(Error::MalformedPem { path: None, reason }),
        _ => Ok(sections),
    }
}

/// The PEM blocks of a text, framed as Go's `pem.Decode` finds them: a block that cannot be
/// framed (no END line, or an END line of another label) is skipped, and the search goes on
/// after its BEGIN line, so that a file holding a good certificate and a damaged block yields
/// the certificate, as it does for etcd. Why each skipped block of a label this crate reads (or
/// names) was skipped is added to `damaged`, for files in which nothing else is found.
pub(crate) fn frame_pem<'a>(bytes: &'a [u8], damaged: &mut Vec<String>) -> Vec<PemSection<'a>> {
    let mut sections = Vec::new();
    let mut offset = 0;
    let mut open: Option<(usize, &str, bool)> = None;
    let begin_label = |trimmed: &'a [u8]| {
        trimmed
            .strip_prefix(b"-----BEGIN ")
            .and_then(|rest| rest.strip_suffix(b"-----"))
    };
    for line in lines_inclusive(bytes) {
        let start = offset;
        offset += line.len();
        // BEGIN and END lines start at the start of a line, as Go's pem.Decode finds them
        // ("\n-----BEGIN "); blanks after them are allowed.
        let trimmed = line.trim_ascii_end();
        match open {
            None => {
                if let Some(label) = begin_label(trimmed) {
                    match std::str::from_utf8(label) {
                        Ok(label) => open = Some((start, label, false)),
                        Err(_) => damaged.push("a BEGIN line has a label that is not text".into()),
                    }
                }
            }
            Some((begin, label, encrypted)) => {
                if let Some(end_label) = trimmed
                    .strip_prefix(b"-----END ")
                    .and_then(|rest| rest.strip_suffix(b"-----"))
                {
                    if end_label == label.as_bytes() {
                        sections.push(PemSection {
                            label,
                            text: &bytes[begin..offset],
                            encrypted,
                        });
                    } else {
                        damaged.push(format!(
                            "BEGIN {label} is closed by END {}",
                            String::from_utf8_lossy(end_label)
                        ));
                    }
                    open = None;
                } else if let Some(next) = begin_label(trimmed) {
                    if is_known_label(label) {
                        damaged.push(format!(
                            "BEGIN {label} has no END line before the next block"
                        ));
                    }
                    // Start over at the new BEGIN line, as Go's search does.
                    open = std::str::from_utf8(next)
                        .ok()
                        .map(|next| (start, next, false));
                } else if trimmed.trim_ascii_start().starts_with(b"Proc-Type:")
                    && find(trimmed, b"ENCRYPTED").is_some()
                {
                    open = Some((begin, label, true));
                }
            }
        }
    }
    if let Some((_, label, _)) = open {
        if is_known_label(label) {
            damaged.push(format!(
                "BEGIN {label} has no END line (is the file truncated?)"
            ));
        }
    }
    sections
}

/// Base64 as Go's `encoding/pem` decodes it: standard alphabet, padding required, non-zero
/// trailing bits accepted.
const PEM_BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireCanonical),
);

/// Decodes the body of a PEM block of public data (a certificate) from its BEGIN line to its
/// END line: header lines (`Name: value`) are skipped, whitespace is ignored, as Go does.
pub(crate) fn decode_public_block(text: &[u8]) -> std::result::Result<Vec<u8>, String> {
    use base64::Engine;
    let mut body = Vec::with_capacity(text.len());
    for line in lines_inclusive(text).skip(1) {
        let line = line.trim_ascii();
        if line.starts_with(b"-----END ") {
            break;
        }
        if memchr::memchr(b':', line).is_some() {
            continue;
        }
        if memchr::memchr3(b' ', b'\t', b'\r', line).is_some() {
            body.extend(line.iter().filter(|b| !b.is_ascii_whitespace()));
        } else {
            body.extend_from_slice(line);
        }
    }
    PEM_BASE64
        .decode(&body)
        .map_err(|e| format!("invalid base64 ({e})"))
}

/// Labels of blocks this crate reads or names; an unterminated block with another label is
/// just text (a script or a document that mentions a BEGIN line).
fn is_known_label(label: &str) -> bool {
    matches!(
        label,
        "CERTIFICATE"
            | "TRUSTED CERTIFICATE"
            | "PRIVATE KEY"
            | "RSA PRIVATE KEY"
            | "EC PRIVATE KEY"
            | "ENCRYPTED PRIVATE KEY"
            | "CERTIFICATE REQUEST"
            | "NEW CERTIFICATE REQUEST"
            | "X509 CRL"
            | "PUBLIC KEY"
    )
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// The lines of `bytes`, each with its `\n` (the last one may lack it), found with memchr.
fn lines_inclusive(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', bytes)
        .map(|i| i + 1)
        .chain(std::iter::once(bytes.len()))
        .filter_map(move |end| {
            if end <= start {
                return None;
            }
            let line = &bytes[start..end];
            start = end;
            Some(line)
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn replacing_keeps_the_rest_of_the_file() {
        let original = format!(
            "# comment\n{}{}",
            super::encode("CERTIFICATE", &[1]),
            super::encode("CERTIFICATE", &[2])
        );
        let out = super::replace_first_certificate(original.as_bytes(), &[9]).unwrap();
        let expected = format!(
            "# comment\n{}{}",
            super::encode("CERTIFICATE", &[9]),
            super::encode("CERTIFICATE", &[2])
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
        assert_eq!(
            super::replace_first_certificate(&[0x30, 0x00], &[9]).unwrap(),
            [9]
        );
    }

    /// Go's pem.Decode finds BEGIN and END lines only at the start of a line, and allows
    /// blanks after them (key-pair differential test).
    #[test]
    fn begin_lines_start_lines() {
        let text = super::encode("CERTIFICATE", &[1, 2, 3]);
        let mut damaged = Vec::new();
        assert_eq!(
            super::frame_pem(format!(" {text}").as_bytes(), &mut damaged).len(),
            0
        );
        let trailing = text.replace("-----\n", "----- \t\r\n");
        assert_eq!(super::frame_pem(trailing.as_bytes(), &mut damaged).len(), 1);
    }

    #[test]
    fn encodes_with_lf_and_label() {
        let text = super::encode("CERTIFICATE", &[1, 2, 3]);
        assert_eq!(
            text,
            "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n"
        );
    }
}
