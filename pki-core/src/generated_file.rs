//! A generated file replaced whole, for readers that must never see half of it: metrics for
//! node_exporter's textfile collector, which reads every `*.prom` file in its directory on each
//! scrape and requires them to be replaced by a rename within that directory.
//!
//! The contents are streamed into a temporary file beside the target (named `.NAME.tmp-…`, which
//! no `*.prom` glob matches), fsynced, made 0644 and renamed over the target; the directory is
//! then fsynced. Unlike [`crate::write`], no backup is kept and no journal is written: the file
//! is regenerated on every run, and a process killed before the rename leaves only the hidden
//! temporary behind (removed on any failure it survives). The target must be a regular file or
//! new, through symbolic links, as for every write of this crate: a FIFO or a device is refused.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::journal::{parent, sync_dir};
use crate::write::{check_target, create_private, real_target, temp_path};

/// A file being generated: write into [`GeneratedFile::writer`], then
/// [`GeneratedFile::commit`]. Dropped without committing, it leaves the target as it was.
pub struct GeneratedFile {
    writer: Option<BufWriter<fs::File>>,
    temp: PathBuf,
    target: PathBuf,
}

impl GeneratedFile {
    /// Starts generating `path`, which must be a regular file or new.
    ///
    /// # Errors
    /// [`Error::NotRegularFile`] for a FIFO, device or directory; [`Error::Write`] when the
    /// temporary file cannot be created beside it.
    pub fn create(path: &Path) -> Result<GeneratedFile> {
        check_target(path)?;
        let fail = |error| Error::Write {
            path: path.to_path_buf(),
            error,
        };
        let target = real_target(path).map_err(fail)?;
        let temp = temp_path(&target, "tmp");
        let file = create_private(&temp).map_err(fail)?;
        Ok(GeneratedFile {
            writer: Some(BufWriter::new(file)),
            temp,
            target,
        })
    }

    /// Where to write the contents.
    pub fn writer(&mut self) -> &mut impl Write {
        self.writer
            .as_mut()
            .expect("a GeneratedFile is only written before it is committed")
    }

    /// Makes the new contents the file's, readable by all (0644).
    ///
    /// # Errors
    /// [`Error::Write`] when writing, syncing or renaming fails; the target is then unchanged.
    pub fn commit(mut self) -> Result<()> {
        let result = self.finish();
        if result.is_err() {
            let _ = fs::remove_file(&self.temp);
        }
        result.map_err(|error| Error::Write {
            path: self.target.clone(),
            error,
        })
    }

    fn finish(&mut self) -> io::Result<()> {
        let writer = self
            .writer
            .take()
            .ok_or_else(|| io::Error::other("the file was already committed"))?;
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(fs::Permissions::from_mode(0o644))?;
        }
        file.sync_all()?;
        drop(file);
        fs::rename(&self.temp, &self.target)?;
        sync_dir(parent(&self.target));
        Ok(())
    }
}

impl Drop for GeneratedFile {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_whole_and_leaves_nothing_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("etcd.prom");
        fs::write(&path, "old\n").unwrap();
        let mut g = GeneratedFile::create(&path).unwrap();
        g.writer().write_all(b"new\n").unwrap();
        // Until the commit, readers see the old file.
        assert_eq!(fs::read_to_string(&path).unwrap(), "old\n");
        g.commit().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary or backup is left");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644);
        }
    }

    #[test]
    fn dropped_without_commit_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("etcd.prom");
        let mut g = GeneratedFile::create(&path).unwrap();
        g.writer().write_all(b"half").unwrap();
        drop(g);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_fifo() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("p.prom");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        assert!(matches!(
            GeneratedFile::create(&fifo),
            Err(Error::NotRegularFile { .. })
        ));
    }
}
