//! Paths as text and as JSON, without losing names that are not UTF-8.
//!
//! A Unix file name is any bytes. Printed lossily (U+FFFD for each bad byte) two names can look
//! alike and the file cannot be found again; serde refuses them outright, which once made a
//! whole `scan -w json` fail because of one odd name. Here:
//!
//! - [`display_path`]: a UTF-8 path as it is; any other with each byte that is not part of valid
//!   UTF-8 written `\xNN` and each backslash doubled, so the text maps back to exactly one name.
//! - JSON ([`serde_path`]): a UTF-8 path is a string, as always; any other is an object
//!   `{"escaped": "<display_path>", "base64": "<the raw bytes>"}`: readable, and lossless for a
//!   program that needs the exact name. A consumer tells the two apart by type.

use std::borrow::Cow;
use std::path::Path;

/// A path for people: as it is when UTF-8; otherwise with `\xNN` for bytes that are not valid
/// UTF-8 and `\\` for backslashes (see the module docs).
pub fn display_path(path: &Path) -> Cow<'_, str> {
    if let Some(text) = path.to_str() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(escape(&raw_bytes(path)))
}

fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

#[cfg(unix)]
fn raw_bytes(path: &Path) -> Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    Cow::Borrowed(path.as_os_str().as_bytes())
}

#[cfg(not(unix))]
fn raw_bytes(path: &Path) -> Cow<'_, [u8]> {
    Cow::Owned(path.to_string_lossy().into_owned().into_bytes())
}

/// `#[serde(serialize_with = ...)]` helpers that write paths as the module docs describe.
pub mod serde_path {
    use std::path::{Path, PathBuf};

    use base64::Engine as _;
    use serde::ser::{SerializeMap, SerializeSeq};
    use serde::Serializer;

    /// One path.
    pub fn path<S: Serializer, P: AsRef<Path>>(path: &P, s: S) -> Result<S::Ok, S::Error> {
        let path = path.as_ref();
        match path.to_str() {
            Some(text) => s.serialize_str(text),
            None => {
                let raw = super::raw_bytes(path);
                let mut map = s.serialize_map(Some(2))?;
                map.serialize_entry("escaped", &super::escape(&raw))?;
                map.serialize_entry(
                    "base64",
                    &base64::engine::general_purpose::STANDARD.encode(&raw),
                )?;
                map.end()
            }
        }
    }

    /// An optional path (`null` when absent).
    pub fn opt_path<S: Serializer, P: AsRef<Path>>(
        path: &Option<P>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match path {
            Some(p) => self::path(p, s),
            None => s.serialize_none(),
        }
    }

    /// A list of paths.
    pub fn paths<S: Serializer, P: AsRef<Path>>(paths: &[P], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(paths.len()))?;
        for p in paths {
            seq.serialize_element(&Json(p.as_ref()))?;
        }
        seq.end()
    }

    /// A path that serializes as the module docs describe, for use inside other values.
    #[derive(Debug, Clone, Copy)]
    pub struct Json<'a>(pub &'a Path);

    impl serde::Serialize for Json<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            path(&self.0, s)
        }
    }

    /// An owned [`Json`].
    #[derive(Debug, Clone)]
    pub struct JsonBuf(pub PathBuf);

    impl serde::Serialize for JsonBuf {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            path(&self.0, s)
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    #[derive(serde::Serialize)]
    struct Row<'a> {
        #[serde(serialize_with = "serde_path::path")]
        path: &'a Path,
        #[serde(serialize_with = "serde_path::opt_path")]
        key: Option<&'a Path>,
    }

    #[test]
    fn utf8_paths_are_plain_and_others_are_escaped_losslessly() {
        assert_eq!(
            display_path(Path::new("/etc/etcd/ca.pem")),
            "/etc/etcd/ca.pem"
        );
        let odd = Path::new(OsStr::from_bytes(b"/x/\xff\\a\xc3.pem"));
        assert_eq!(display_path(odd), "/x/\\xFF\\\\a\\xC3.pem");
        let json = serde_json::to_value(Row {
            path: odd,
            key: None,
        })
        .unwrap();
        assert_eq!(json["path"]["escaped"], "/x/\\xFF\\\\a\\xC3.pem");
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(json["path"]["base64"].as_str().unwrap())
            .unwrap();
        assert_eq!(raw, b"/x/\xff\\a\xc3.pem");
        assert!(json["key"].is_null());
        let plain = serde_json::to_value(Row {
            path: Path::new("ca.pem"),
            key: Some(Path::new("ca-key.pem")),
        })
        .unwrap();
        assert_eq!(
            plain,
            serde_json::json!({"path": "ca.pem", "key": "ca-key.pem"})
        );
    }
}
