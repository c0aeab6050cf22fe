//! A certificate subject (an X.501 Name, as DER) with some attribute values replaced, e.g. the
//! template member's name by the new member's in `CN=etcd-1.example.com,O=etcd`.
//!
//! Every attribute whose value is not replaced is copied byte for byte (its string type, a
//! multi-valued RDN, an unusual attribute); a replaced value keeps its string type when the new
//! text fits it (PrintableString holds only `A-Za-z0-9 '()+,-./:=?`, IA5String only ASCII) and
//! becomes a UTF8String otherwise, as Go and OpenSSL write new names.

use yasna::models::{ObjectIdentifier, TaggedDerValue};
use yasna::tags::{TAG_IA5STRING, TAG_PRINTABLESTRING, TAG_UTF8STRING};
use yasna::Tag;

/// One attribute of a name, as read.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attribute {
    /// Its type, dotted (`2.5.4.3` is the common name).
    pub(crate) oid: String,
    /// Its value as text, for the string types this rewrites (UTF8String, PrintableString,
    /// IA5String); `None` for any other.
    pub(crate) text: Option<String>,
}

/// The attributes of a Name in DER order, RDN by RDN.
#[cfg(test)]
pub(crate) fn attributes(name_der: &[u8]) -> Result<Vec<Attribute>, String> {
    let mut out = Vec::new();
    walk(name_der, |oid, value| {
        out.push(Attribute {
            oid: oid.to_string(),
            text: text_of(value),
        });
        None
    })?;
    Ok(out)
}

/// The Name with each string value `v` for which `replace(v)` gives `Some(new)` replaced by
/// `new`; byte for byte the same when nothing is replaced.
pub(crate) fn rewrite(
    name_der: &[u8],
    mut replace: impl FnMut(&str) -> Option<String>,
) -> Result<Vec<u8>, String> {
    walk(name_der, |_, value| {
        let old = text_of(value)?;
        let new = replace(&old).filter(|n| *n != old)?;
        Some(encode_string(value.tag(), &new))
    })
}

/// Reads a Name and writes it again, asking `edit` for a new value (a string as DER TLV) of
/// each attribute.
fn walk(
    name_der: &[u8],
    mut edit: impl FnMut(&ObjectIdentifier, &TaggedDerValue) -> Option<TaggedDerValue>,
) -> Result<Vec<u8>, String> {
    // RDNs, each a list of (raw attribute DER, OID, value).
    let rdns: Vec<Vec<(Vec<u8>, ObjectIdentifier, TaggedDerValue)>> =
        yasna::parse_der(name_der, |r| {
            let mut rdns = Vec::new();
            r.read_sequence_of(|r| {
                let mut rdn = Vec::new();
                r.read_set_of(|r| {
                    let raw = r.read_der()?;
                    let (oid, value) = yasna::parse_der(&raw, |r| {
                        r.read_sequence(|r| {
                            let oid = r.next().read_oid()?;
                            let value = r.next().read_tagged_der()?;
                            Ok((oid, value))
                        })
                    })?;
                    rdn.push((raw, oid, value));
                    Ok(())
                })?;
                rdns.push(rdn);
                Ok(())
            })?;
            Ok(rdns)
        })
        .map_err(|e| format!("the subject does not parse as a Name: {e}"))?;
    Ok(yasna::construct_der(|w| {
        w.write_sequence(|w| {
            for rdn in &rdns {
                w.next().write_set(|w| {
                    for (raw, oid, value) in rdn {
                        match edit(oid, value) {
                            Some(new) => w.next().write_sequence(|w| {
                                w.next().write_oid(oid);
                                w.next().write_tagged_der(&new);
                            }),
                            None => w.next().write_der(raw),
                        }
                    }
                });
            }
        })
    }))
}

/// The text of a UTF8String, PrintableString or IA5String value.
fn text_of(value: &TaggedDerValue) -> Option<String> {
    let tag = value.tag();
    if tag == TAG_UTF8STRING {
        String::from_utf8(value.value().to_vec()).ok()
    } else if tag == TAG_PRINTABLESTRING || tag == TAG_IA5STRING {
        value
            .value()
            .is_ascii()
            .then(|| String::from_utf8_lossy(value.value()).into_owned())
    } else {
        None
    }
}

/// `text` as a string value of type `tag` when it fits that type, else as a UTF8String.
fn encode_string(tag: Tag, text: &str) -> TaggedDerValue {
    let fits = if tag == TAG_PRINTABLESTRING {
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b))
    } else if tag == TAG_IA5STRING {
        text.is_ascii()
    } else {
        tag == TAG_UTF8STRING
    };
    let tag = if fits { tag } else { TAG_UTF8STRING };
    TaggedDerValue::from_tag_and_bytes(tag, text.as_bytes().to_vec())
}

/// `text` with every occurrence of `old` that stands as a whole token (not inside a longer run
/// of letters and digits: `etcd-1` in `etcd-1.example.com`, not in `etcd-10`) replaced by `new`.
pub(crate) fn replace_token(text: &str, old: &str, new: &str) -> Option<String> {
    if old.is_empty() {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut changed = false;
    let mut from = 0;
    while let Some(pos) = text[from..].find(old).map(|p| p + from) {
        let end = pos + old.len();
        let before_ok = pos == 0 || !bytes[pos - 1].is_ascii_alphanumeric();
        let after_ok = end == bytes.len() || !bytes[end].is_ascii_alphanumeric();
        if before_ok && after_ok {
            out.push_str(&text[last..pos]);
            out.push_str(new);
            last = end;
            changed = true;
            from = end;
        } else {
            // Step past the first character of this occurrence.
            from = pos + text[pos..].chars().next().map_or(1, char::len_utf8);
        }
    }
    if !changed {
        return None;
    }
    out.push_str(&text[last..]);
    Some(out)
}

/// Whether `old` occurs in `text` as a whole token (see [`replace_token`]).
pub(crate) fn has_token(text: &str, old: &str) -> bool {
    replace_token(text, old, "").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(attrs: &[(&[u64], Tag, &str)]) -> Vec<u8> {
        yasna::construct_der(|w| {
            w.write_sequence(|w| {
                for (oid, tag, value) in attrs {
                    w.next().write_set(|w| {
                        w.next().write_sequence(|w| {
                            w.next().write_oid(&ObjectIdentifier::from_slice(oid));
                            w.next()
                                .write_tagged_der(&TaggedDerValue::from_tag_and_bytes(
                                    *tag,
                                    value.as_bytes().to_vec(),
                                ));
                        })
                    })
                }
            })
        })
    }

    const CN: &[u64] = &[2, 5, 4, 3];
    const O: &[u64] = &[2, 5, 4, 10];

    #[test]
    fn nothing_replaced_is_byte_for_byte() {
        let der = name(&[(O, TAG_PRINTABLESTRING, "etcd"), (CN, TAG_UTF8STRING, "n0")]);
        assert_eq!(rewrite(&der, |_| None).unwrap(), der);
        assert_eq!(rewrite(&der, |v| Some(v.to_string())).unwrap(), der);
    }

    #[test]
    fn a_replaced_value_keeps_its_type_when_it_fits() {
        let der = name(&[
            (O, TAG_PRINTABLESTRING, "etcd"),
            (CN, TAG_PRINTABLESTRING, "n0"),
        ]);
        let out = rewrite(&der, |v| replace_token(v, "n0", "n3")).unwrap();
        assert_eq!(
            out,
            name(&[
                (O, TAG_PRINTABLESTRING, "etcd"),
                (CN, TAG_PRINTABLESTRING, "n3")
            ])
        );
        // '_' does not fit a PrintableString: UTF8String.
        let out = rewrite(&der, |v| replace_token(v, "n0", "n_3")).unwrap();
        assert_eq!(
            out,
            name(&[
                (O, TAG_PRINTABLESTRING, "etcd"),
                (CN, TAG_UTF8STRING, "n_3")
            ])
        );
        let attrs = attributes(&out).unwrap();
        assert_eq!(attrs[1].oid, "2.5.4.3");
        assert_eq!(attrs[1].text.as_deref(), Some("n_3"));
    }

    #[test]
    fn tokens_are_whole() {
        assert_eq!(
            replace_token("etcd-1.example.com", "etcd-1", "etcd-4").as_deref(),
            Some("etcd-4.example.com")
        );
        assert_eq!(replace_token("etcd-10", "etcd-1", "etcd-4"), None);
        assert_eq!(replace_token("xetcd-1", "etcd-1", "etcd-4"), None);
        assert_eq!(
            replace_token("n0 and n0-peer and n00", "n0", "n3").as_deref(),
            Some("n3 and n3-peer and n00")
        );
        assert_eq!(replace_token("é-n0", "n0", "n3").as_deref(), Some("é-n3"));
        assert_eq!(replace_token("abc", "", "x"), None);
        assert!(has_token("kube-etcd-healthcheck-client", "etcd"));
        assert!(!has_token("etcd1", "etcd"));
    }

    #[test]
    fn damaged_names_are_errors_not_panics() {
        for bad in [&b""[..], b"\x30", b"\x30\x03\x31\x01", b"\x31\x00"] {
            assert!(rewrite(bad, |_| None).is_err(), "{bad:?}");
        }
    }
}
