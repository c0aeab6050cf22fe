//! PEM framing and encoding.
//!
//! Framing finds the blocks of a text as Go's `pem.Decode` finds them, with every block's label,
//! so that [`crate::load`] can name what a file holds (an encrypted key, a CSR) instead of
//! silently skipping it. Bodies are checked here with Go's base64 rules (so that a block Go
//! skips is skipped); the base64 of certificate blocks is decoded here, that of keys by
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
    // The open block: where it starts, its label, whether headers say it is encrypted, and
    // where its lines are: 0 right after the BEGIN line, 1 in header lines, 2 in the body.
    let mut open: Option<(usize, &str, bool, u8)> = None;
    let begin_label = |trimmed: &'a [u8]| {
        trimmed
            .strip_prefix(b"-----BEGIN ")
            .and_then(|rest| rest.strip_suffix(b"-----"))
    };
    for line in lines_inclusive(bytes) {
        let start = offset;
        offset += line.len();
        // BEGIN and END lines start at the start of a line, as Go's pem.Decode finds them
        // ("\n-----BEGIN "); spaces and tabs after them are allowed, and a '\r' before the
        // '\n' (not one at the end of the file).
        let trimmed = go_line(line);
        match open {
            None => {
                if let Some(label) = begin_label(trimmed) {
                    match std::str::from_utf8(label) {
                        Ok(label) => open = Some((start, label, false, 0)),
                        Err(_) => damaged.push("a BEGIN line has a label that is not text".into()),
                    }
                }
            }
            Some((begin, label, encrypted, phase)) => {
                if let Some(end_label) = trimmed
                    .strip_prefix(b"-----END ")
                    .and_then(|rest| rest.strip_suffix(b"-----"))
                {
                    if end_label == label.as_bytes() && phase == 1 {
                        // Go's pem.Decode looks for the END line after the header lines with
                        // the newline before it, which a block of headers only lacks: it finds
                        // no such block.
                        if is_known_label(label) {
                            damaged.push(format!(
                                "BEGIN {label} has header lines and no body before its END line"
                            ));
                        }
                    } else if end_label == label.as_bytes() {
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
                        .map(|next| (start, next, false, 0));
                } else {
                    let header = phase < 2 && memchr::memchr(b':', trimmed).is_some();
                    let encrypted = encrypted
                        || (trimmed.trim_ascii_start().starts_with(b"Proc-Type:")
                            && find(trimmed, b"ENCRYPTED").is_some());
                    open = Some((begin, label, encrypted, if header { 1 } else { 2 }));
                }
            }
        }
    }
    if let Some((_, label, _, _)) = open {
        if is_known_label(label) {
            damaged.push(format!(
                "BEGIN {label} has no END line (is the file truncated?)"
            ));
        }
    }
    sections
}

/// A line (with its '\n', if any) as Go's `pem.getLine` returns it: without the '\n' and a
/// '\r' just before it, then without trailing spaces and tabs.
fn go_line(line: &[u8]) -> &[u8] {
    let line = match line.strip_suffix(b"\n") {
        Some(line) => line.strip_suffix(b"\r").unwrap_or(line),
        None => line,
    };
    let end = line
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |i| i + 1);
    &line[..end]
}

/// Base64 as Go's `encoding/pem` decodes it: standard alphabet, padding required, non-zero
/// trailing bits accepted. Input is checked by [`go_base64_valid`] first.
const PEM_BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireCanonical),
);

/// The body of a framed PEM block (its text from the BEGIN line through the END line) as Go's
/// `pem.Decode` takes it: after the BEGIN line and the header lines that follow it (the lines
/// holding a ':', up to the first that does not; later ones are body, and not base64), up to
/// the END line.
pub(crate) fn go_block_body(text: &[u8]) -> &[u8] {
    let mut start = memchr::memchr(b'\n', text).map_or(text.len(), |i| i + 1);
    let end = memchr::memmem::rfind(text, b"-----END ").unwrap_or(text.len());
    while start < end {
        let line_end = memchr::memchr(b'\n', &text[start..end]).map_or(end, |i| start + i + 1);
        if memchr::memchr(b':', &text[start..line_end]).is_none() {
            break;
        }
        start = line_end;
    }
    &text[start..end.max(start)]
}

/// 1 if `lo <= b <= hi`, else 0, without a branch on `b` (key bodies are secret).
fn in_range(b: u8, lo: u8, hi: u8) -> u8 {
    let b = i16::from(b);
    ((((i16::from(lo) - 1 - b) & (b - i16::from(hi) - 1)) >> 15) & 1) as u8
}

/// Appends to `out` the bytes of a PEM body that Go's decoder reads: `pem.Decode` removes
/// spaces and tabs, base64 skips '\r' and '\n'; every other byte is kept. Without branches on
/// the bytes; `out` should be zeroed memory for a key.
pub(crate) fn go_base64_chars(body: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + body.len(), 0);
    let mut n = start;
    for &b in body {
        out[n] = b;
        let skip = in_range(b, b' ', b' ') | in_range(b, b'\t', b'\t') | in_range(b, b'\n', b'\n');
        let skip = skip | in_range(b, b'\r', b'\r');
        n += usize::from(1 - skip);
    }
    for b in &mut out[n..] {
        *b = 0;
    }
    out.truncate(n);
}

/// Whether base64 characters (from [`go_base64_chars`]) are what Go's `base64.StdEncoding`
/// decodes: only the standard alphabet, a length that is a multiple of 4, and '=' only as the
/// last one or two characters. Non-zero trailing bits are accepted, as by Go. Without branches
/// on the characters.
pub(crate) fn go_base64_valid(chars: &[u8]) -> bool {
    let n = chars.len();
    let mut bad = u8::from(!n.is_multiple_of(4));
    for (i, &b) in chars.iter().enumerate() {
        let alphabet = in_range(b, b'A', b'Z')
            | in_range(b, b'a', b'z')
            | in_range(b, b'0', b'9')
            | in_range(b, b'+', b'+')
            | in_range(b, b'/', b'/');
        let pad = in_range(b, b'=', b'=');
        bad |= 1 - (alphabet | pad);
        // '=' may be the last character, or the one before it when the last is '=' too.
        let last = u8::from(i + 1 == n);
        let next_pad = chars.get(i + 1).map_or(0, |&c| in_range(c, b'=', b'='));
        let second_last = u8::from(i + 2 == n);
        bad |= pad & (1 - last) & (1 - (second_last & next_pad));
    }
    bad == 0
}

/// Decodes the body of a PEM block of public data (a certificate) from its BEGIN line to its
/// END line exactly as Go's `pem.Decode` does (see [`go_block_body`], [`go_base64_valid`]).
pub(crate) fn decode_public_block(text: &[u8]) -> std::result::Result<Vec<u8>, String> {
    use base64::Engine;
    let mut chars = Vec::with_capacity(text.len());
    go_base64_chars(go_block_body(text), &mut chars);
    if !go_base64_valid(&chars) {
        return Err("invalid base64 (as Go's pem.Decode reads it)".to_string());
    }
    PEM_BASE64
        .decode(&chars)
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

    /// Go's base64.StdEncoding, as pem.Decode uses it: padding only at the end, whole
    /// quanta, the standard alphabet; rustls-pki-types' decoder was more lenient (key-pair
    /// differential test: a character replaced by a space made a block Go skips).
    #[test]
    fn base64_is_checked_as_go_checks_it() {
        for ok in ["", "AAAA", "AA==", "AAA=", "AB+/ab09", "AAAB"] {
            assert!(super::go_base64_valid(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "AAA", "A", "AAAAA", "A===", "AA=A", "=AAA", "AAAA====", "AA==AAAA", "AA*A", "AA.A",
            "AA_A", "AA-A", "AA!A", "AA\x0cA",
        ] {
            assert!(!super::go_base64_valid(bad.as_bytes()), "{bad:?}");
        }
        let mut chars = vec![9];
        super::go_base64_chars(b" A\tA\r\nA A\x0c\n", &mut chars);
        assert_eq!(chars, b"\x09AAAA\x0c");
    }

    /// Header lines are the lines with a ':' right after the BEGIN line only; a block of
    /// header lines with its END line right after them is no block to Go (its search for the
    /// END line wants the newline before it).
    #[test]
    fn header_lines_are_taken_as_go_takes_them() {
        let text = b"-----BEGIN X-----\nA: b\nC: d\n\nAAAA\n-----END X-----\n";
        assert_eq!(super::go_block_body(text), b"\nAAAA\n");
        let later = b"-----BEGIN CERTIFICATE-----\nAAAA\nA: b\n-----END CERTIFICATE-----\n";
        assert!(super::decode_public_block(later).is_err());
        let mut damaged = Vec::new();
        let headers_only = b"-----BEGIN CERTIFICATE-----\nComment: x\n-----END CERTIFICATE-----\n";
        assert!(super::frame_pem(headers_only, &mut damaged).is_empty());
        assert_eq!(damaged.len(), 1, "{damaged:?}");
        let empty = b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
        assert_eq!(super::frame_pem(empty, &mut damaged).len(), 1);
    }

    /// Go's getLine drops a '\r' only before a '\n': an END line ending in a lone '\r' at the
    /// end of the file is not one (key-pair differential test: a truncated file).
    #[test]
    fn a_lone_carriage_return_ends_no_line() {
        let text = super::encode("CERTIFICATE", &[1, 2, 3]).replace('\n', "\r\n");
        let mut damaged = Vec::new();
        assert_eq!(super::frame_pem(text.as_bytes(), &mut damaged).len(), 1);
        let cut = &text.as_bytes()[..text.len() - 1];
        assert!(super::frame_pem(cut, &mut damaged).is_empty());
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
