//! PEM encoding of what this crate writes (certificates and keys), with LF line endings and
//! 64-column lines as openssl, cfssl and kubeadm write them. Decoding is in [`crate::load`].

/// Encodes DER as one PEM block with the given label.
pub fn encode(label: &str, der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(label, der), config)
}

/// The contents of a certificate file with its first certificate replaced and everything else
/// (intermediates that follow, a key in the same file, comments) kept byte for byte. A DER file
/// stays DER.
pub(crate) fn replace_first_certificate(original: &[u8], new_der: &[u8]) -> crate::Result<Vec<u8>> {
    let sections = crate::load::split_pem(original)?;
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

    #[test]
    fn encodes_with_lf_and_label() {
        let text = super::encode("CERTIFICATE", &[1, 2, 3]);
        assert_eq!(
            text,
            "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n"
        );
    }
}
