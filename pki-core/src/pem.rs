//! PEM encoding of what this crate writes (certificates and keys), with LF line endings and
//! 64-column lines as openssl, cfssl and kubeadm write them. Decoding is in [`crate::load`].

/// Encodes DER as one PEM block with the given label.
pub fn encode(label: &str, der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(label, der), config)
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_with_lf_and_label() {
        let text = super::encode("CERTIFICATE", &[1, 2, 3]);
        assert_eq!(
            text,
            "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n"
        );
    }
}
