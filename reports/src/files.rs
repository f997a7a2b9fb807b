//! Writing output files so that a reader never sees half of one.
//!
//! [`write_atomic`] writes the bytes to a temporary file beside the target
//! (`.NAME.partial`), flushes it to disk and renames it over the target: the
//! target is either the complete old file, the complete new one, or absent.
//! A failure (disk full, permission) removes the temporary file and names
//! the target in the error. [`PartialFile`] does the same for files written
//! as a stream (ops.csv, traces).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The temporary name a file is written under before it is renamed into
/// place: `.NAME.partial` in the same directory (so the rename is atomic).
pub fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.partial"))
}

/// An I/O error that names the file it happened on.
#[derive(Debug, thiserror::Error)]
#[error("writing {}: {source}", path.display())]
pub struct WriteError {
    /// The file being written.
    pub path: PathBuf,
    /// What went wrong.
    #[source]
    pub source: io::Error,
}

/// Writes `bytes` to `path` atomically (temporary file, sync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let mut f = PartialFile::create(path)?;
    f.write_all(bytes).map_err(|source| WriteError {
        path: path.to_path_buf(),
        source,
    })?;
    f.commit()
}

/// A file written as a stream under its temporary name, renamed into place
/// by [`PartialFile::commit`]. Dropped without a commit, it removes the
/// temporary file.
pub struct PartialFile {
    path: PathBuf,
    partial: PathBuf,
    out: Option<BufWriter<File>>,
}

impl PartialFile {
    /// Creates the temporary file for `path`.
    pub fn create(path: &Path) -> Result<PartialFile, WriteError> {
        let partial = partial_path(path);
        let file = File::create(&partial).map_err(|source| WriteError {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(PartialFile {
            path: path.to_path_buf(),
            partial,
            out: Some(BufWriter::new(file)),
        })
    }

    /// The file's final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(mut self) -> Result<(), WriteError> {
        let named = |source| WriteError {
            path: self.path.clone(),
            source,
        };
        let out = self.out.take().expect("committed once");
        let file = out.into_inner().map_err(|e| named(e.into_error()))?;
        file.sync_all().map_err(named)?;
        drop(file);
        std::fs::rename(&self.partial, &self.path).map_err(named)
    }
}

impl Write for PartialFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.as_mut().expect("not committed").write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.as_mut().expect("not committed").flush()
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dynasim-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    #[test]
    fn an_atomic_write_replaces_the_whole_file_and_leaves_no_temporary() {
        let dir = scratch("atomic");
        let p = dir.join("summary.json");
        std::fs::write(&p, "old").expect("write");
        write_atomic(&p, b"new and longer").expect("write");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "new and longer");
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_uncommitted_stream_leaves_the_old_file_and_no_temporary() {
        let dir = scratch("stream");
        let p = dir.join("ops.csv");
        std::fs::write(&p, "old").expect("write");
        {
            let mut f = PartialFile::create(&p).expect("create");
            f.write_all(b"half of a new file").expect("write");
        }
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "old");
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_failed_write_names_the_file() {
        let p = Path::new("/nonexistent-dir-for-dynasim/summary.json");
        let e = write_atomic(p, b"x").expect_err("no such directory");
        assert!(e.to_string().contains("summary.json"), "{e}");
    }
}
