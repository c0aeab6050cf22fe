//! Streaming a snapshot from one endpoint into a file, atomically, and checking it.
//!
//! etcd sends the bolt database followed by the SHA-256 of it (what `etcdctl snapshot restore`
//! checks, unless told not to); the file is written through a temporary beside it, fsynced,
//! verified (size and hash) and only then renamed into place, 0600 since it holds every key.
//! Each message must arrive within the command timeout; the whole stream may take as long as
//! the database needs.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use pki_core::write::{AtomicFile, Secrecy};
use serde::Serialize;

use crate::connection::Connection;
use crate::error::{classify, Error, Result};

/// A saved snapshot.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SavedSnapshot {
    /// The file.
    #[serde(serialize_with = "pki_core::serde_path::path")]
    pub path: PathBuf,
    /// Its size in bytes (database and hash).
    pub size: u64,
    /// The store revision when the snapshot was taken (from etcd 3.4: the revision just before).
    pub revision: i64,
    /// The endpoint it came from.
    pub endpoint: String,
    /// The backup of a file it replaced.
    #[serde(serialize_with = "pki_core::serde_path::opt_path")]
    pub backup: Option<PathBuf>,
}

/// Streams a snapshot from the first endpoint that answers into `path` (see the module docs).
///
/// # Errors
/// A `path` that is a pipe or a device, or one the file cannot be written to, is [`Error::File`]
/// or [`Error::Write`]; no endpoint answering is [`Error::NoneReachable`]; a stream that is
/// not a database followed by its SHA-256 is [`Error::BadSnapshot`] (nothing is written then).
pub async fn save_snapshot(etcd: &Connection, path: impl AsRef<Path>) -> Result<SavedSnapshot> {
    let path = path.as_ref();
    let mut causes = Vec::new();
    for endpoint in etcd.endpoints() {
        match save_from(etcd, endpoint, path).await {
            Ok(saved) => return Ok(saved),
            Err(e) if e.is_unreachable() => causes.push(e),
            Err(e) => return Err(e),
        }
    }
    Err(Error::NoneReachable { causes })
}

async fn save_from(etcd: &Connection, endpoint: &str, path: &Path) -> Result<SavedSnapshot> {
    let mut client = etcd.connect(endpoint).await?;
    let wait = etcd.request_timeout();
    // etcd 3.4 sends snapshot messages without a header: the revision comes from a status
    // request just before (the snapshot holds at least that revision).
    let before = tokio::time::timeout(wait, client.status())
        .await
        .ok()
        .and_then(Result::ok)
        .and_then(|s| s.header().map(|h| h.revision()))
        .unwrap_or(0);
    let stalled = || Error::Timeout {
        endpoint: endpoint.to_string(),
        after: wait,
        connected: true,
    };
    let mut stream = tokio::time::timeout(wait, client.snapshot())
        .await
        .map_err(|_| stalled())?
        .map_err(|e| classify(endpoint, e, etcd.command_timeout()))?;
    let mut file = AtomicFile::create(path, Secrecy::Secret)?;
    let mut size: u64 = 0;
    let mut revision = 0;
    loop {
        let message = tokio::time::timeout(wait, stream.message())
            .await
            .map_err(|_| stalled())?
            .map_err(|e| classify(endpoint, e, etcd.command_timeout()))?;
        let Some(message) = message else { break };
        if revision == 0 {
            revision = message.header().map_or(0, |h| h.revision());
        }
        file.file()
            .write_all(message.blob())
            .map_err(|e| Error::Write {
                path: path.to_path_buf(),
                cause: e.to_string(),
            })?;
        size += message.blob().len() as u64;
    }
    if revision == 0 {
        revision = before;
    }
    verify(file.temp_path(), size).map_err(|why| Error::BadSnapshot {
        endpoint: endpoint.to_string(),
        path: path.to_path_buf(),
        why,
    })?;
    let backup = file.commit()?;
    Ok(SavedSnapshot {
        path: path.to_path_buf(),
        size,
        revision,
        endpoint: endpoint.to_string(),
        backup,
    })
}

/// etcd's own test: a snapshot with a hash is 512-byte pages plus 32 bytes, and those 32 bytes
/// are the SHA-256 of the rest.
pub(crate) fn verify(temp: &Path, size: u64) -> std::result::Result<(), String> {
    const HASH: u64 = 32;
    if size < HASH || size % 512 != HASH {
        return Err(format!(
            "{size} bytes is not a database followed by its SHA-256"
        ));
    }
    let mut f = std::fs::File::open(temp).map_err(|e| e.to_string())?;
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut remaining = size - HASH;
    let mut buf = vec![0u8; 1 << 16];
    while remaining > 0 {
        let n = f
            .read(&mut buf[..remaining.min(1 << 16) as usize])
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the file is shorter than what was received".into());
        }
        ctx.update(&buf[..n]);
        remaining -= n as u64;
    }
    let mut expected = [0u8; 32];
    f.read_exact(&mut expected)
        .map_err(|_| "the file is shorter than what was received".to_string())?;
    if ctx.finish().as_ref() != expected {
        return Err("its SHA-256 does not match the hash etcd sent".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::verify;

    /// 1024 bytes of "database" followed by their SHA-256, as etcd sends a snapshot.
    fn snapshot_bytes() -> Vec<u8> {
        let db: Vec<u8> = (0..1024u32).map(|i| (i * 7 % 251) as u8).collect();
        let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &db);
        [db, hash.as_ref().to_vec()].concat()
    }

    fn check(bytes: &[u8], size: u64) -> std::result::Result<(), String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        std::fs::write(&path, bytes).unwrap();
        verify(&path, size)
    }

    #[test]
    fn an_intact_snapshot_passes() {
        let bytes = snapshot_bytes();
        assert_eq!(check(&bytes, bytes.len() as u64), Ok(()));
    }

    #[test]
    fn a_changed_byte_fails_the_hash() {
        let mut bytes = snapshot_bytes();
        bytes[100] ^= 1;
        let err = check(&bytes, bytes.len() as u64).unwrap_err();
        assert!(err.contains("SHA-256 does not match"), "{err}");
    }

    #[test]
    fn a_truncated_stream_is_not_a_snapshot() {
        let bytes = snapshot_bytes();
        let cut = &bytes[..bytes.len() - 10];
        let err = check(cut, cut.len() as u64).unwrap_err();
        assert!(
            err.contains("is not a database followed by its SHA-256"),
            "{err}"
        );
        // Received more than the file holds (a short write).
        let err = check(cut, bytes.len() as u64).unwrap_err();
        assert!(err.contains("shorter"), "{err}");
    }
}
