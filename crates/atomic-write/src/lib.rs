//! Writing a file so that nothing but that file is ever touched, used by every file leakhunt
//! writes (snapshots, reports, the demo's example).
//!
//! Output folders can be shared (`/tmp`, a CI workspace), so a name we are about to write may
//! already exist as a symlink planted by someone else. Opening it, even with a `.partial`
//! suffix, would write through the link into whatever it points at. So:
//!
//! - the data goes to a new file with a unique, unpredictable name in the target's folder
//!   (`<name>.<random>.partial`), created with `O_CREAT | O_EXCL`, which fails rather than
//!   follow a symlink, and mode 0600 (heap snapshots hold every secret the service had in
//!   memory);
//! - [`AtomicFile::commit`] fsyncs it and renames it over the target. `rename` replaces the
//!   target's directory entry: when the target itself is a symlink, the link is replaced by
//!   our file and whatever it pointed at stays as it was;
//! - an [`AtomicFile`] dropped without `commit` (an error on the way) removes its temporary
//!   file; the target, and anything written earlier, is left alone.
//!
//! A process that exits without running destructors (the Ctrl-C handler ends with
//! `std::process::exit`) calls [`remove_unfinished`] first.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tempfile::NamedTempFile;

/// Temporary files being written by this process, for [`remove_unfinished`].
static UNFINISHED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A file being written under a temporary name; see the crate documentation.
pub struct AtomicFile {
    /// `None` once committed.
    temp: Option<NamedTempFile>,
    target: PathBuf,
}

impl AtomicFile {
    /// Creates the temporary file for `target` in `target`'s folder (which must exist).
    pub fn create(target: &Path) -> io::Result<AtomicFile> {
        let name = target
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut prefix = name.to_os_string();
        prefix.push(".");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".partial");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // tempfile's default too; said here because it matters.
            builder.permissions(std::fs::Permissions::from_mode(0o600));
        }
        let temp = builder.tempfile_in(dir)?;
        if let Ok(mut list) = UNFINISHED.lock() {
            list.push(temp.path().to_path_buf());
        }
        Ok(AtomicFile {
            temp: Some(temp),
            target: target.to_path_buf(),
        })
    }

    /// The temporary file's path (it disappears on commit or drop).
    pub fn temp_path(&self) -> &Path {
        self.temp.as_ref().map_or(&self.target, |t| t.path())
    }

    /// The path the file will have once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Makes the data durable and puts the file in place of the target.
    pub fn commit(mut self) -> io::Result<()> {
        let temp = self.temp.take().expect("not yet committed");
        let temp_path = temp.path().to_path_buf();
        let result = temp.as_file().sync_all().and_then(|()| {
            // On failure the temporary file comes back inside the error and is removed
            // when that is dropped.
            temp.persist(&self.target).map(drop).map_err(|e| e.error)
        });
        forget(&temp_path);
        if result.is_ok() {
            sync_dir(&self.target);
        }
        result
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file()?.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file()?.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file()?.flush()
    }
}

impl AtomicFile {
    fn file(&mut self) -> io::Result<&mut File> {
        self.temp
            .as_mut()
            .map(NamedTempFile::as_file_mut)
            .ok_or_else(|| io::Error::other("file already committed"))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let path = temp.path().to_path_buf();
            drop(temp); // removes the file
            forget(&path);
        }
    }
}

/// Writes `bytes` to `target` through an [`AtomicFile`].
pub fn write(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(target)?;
    file.write_all(bytes)?;
    file.commit()
}

/// Removes the temporary files of every [`AtomicFile`] still being written, for a process
/// about to exit without running destructors. Never blocks: if the list is locked (a panic
/// while it was held), nothing is removed.
pub fn remove_unfinished() {
    if let Ok(mut list) = UNFINISHED.try_lock() {
        for path in list.drain(..) {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn forget(path: &Path) {
    if let Ok(mut list) = UNFINISHED.lock() {
        list.retain(|p| p != path);
    }
}

/// Makes the rename itself durable; best effort (not every system can fsync a folder).
fn sync_dir(target: &Path) {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
