//! Reading the files a configuration is made of without hanging or exhausting memory: only
//! regular files (a FIFO is refused, and opened with `O_NONBLOCK` so that one swapped in after
//! the check does not block), at most [`MAX_SIZE`] bytes (as `pki_core::read_file` for
//! certificate files).

use std::fs;
use std::io::Read;
use std::path::Path;

use super::ConfigError;

/// The largest file read: 4 MiB, far more than any unit, manifest, config file or command line.
pub(crate) const MAX_SIZE: u64 = 4 * 1024 * 1024;

/// What a non-regular file is, in words.
fn kind_of(meta: &fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a named pipe (FIFO)")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_block_device() || t.is_char_device() {
        Some("a device")
    } else {
        Some("not a regular file")
    }
}

/// The bytes of a regular file of at most [`MAX_SIZE`] bytes. Files under `/proc` report a size
/// of 0 and are read up to the limit.
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>, ConfigError> {
    let read_err = |source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    };
    let before = fs::metadata(path).map_err(read_err)?;
    if let Some(kind) = kind_of(&before) {
        return Err(ConfigError::NotRegularFile {
            path: path.to_path_buf(),
            kind,
        });
    }
    let mut options = fs::OpenOptions::new();
    options.read(true);
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path).map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;
    if let Some(kind) = kind_of(&meta) {
        return Err(ConfigError::NotRegularFile {
            path: path.to_path_buf(),
            kind,
        });
    }
    let too_large = |size| ConfigError::TooLarge {
        path: path.to_path_buf(),
        size,
        limit: MAX_SIZE,
    };
    if meta.len() > MAX_SIZE {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_SIZE {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// A text file; bytes that are not UTF-8 become U+FFFD.
pub(crate) fn read_text(path: &Path) -> Result<String, ConfigError> {
    read_bytes(path).map(|b| String::from_utf8_lossy(&b).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_fifos_directories_and_large_files() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_bytes(dir.path()),
            Err(ConfigError::NotRegularFile {
                kind: "a directory",
                ..
            })
        ));
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        assert!(matches!(
            read_bytes(&fifo),
            Err(ConfigError::NotRegularFile { .. })
        ));
        let big = dir.path().join("big");
        fs::write(&big, vec![b'a'; MAX_SIZE as usize + 1]).unwrap();
        assert!(matches!(
            read_bytes(&big),
            Err(ConfigError::TooLarge { .. })
        ));
        let small = dir.path().join("small");
        fs::write(&small, b"name: a\xff\n").unwrap();
        assert_eq!(read_text(&small).unwrap(), "name: a\u{fffd}\n");
        assert!(matches!(
            read_bytes(&dir.path().join("missing")),
            Err(ConfigError::Read { .. })
        ));
    }

    #[test]
    fn reads_proc_files() {
        let bytes = read_bytes(Path::new("/proc/self/cmdline")).unwrap();
        assert!(!bytes.is_empty());
    }
}
