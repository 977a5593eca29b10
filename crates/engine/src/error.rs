//! What can go wrong while reading a snapshot, worded for the person who gave us the file.

use std::fmt;
use std::path::PathBuf;

/// A snapshot could not be read. `Display` gives one line: `FILE: problem`.
#[derive(Debug)]
pub struct SnapshotError {
    /// The file (or `-` for stdin) when known.
    pub source_name: Option<PathBuf>,
    pub kind: ErrorKind,
}

#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the file is empty")]
    EmptyFile,
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("JSON, but not a V8 heap snapshot: {0}")]
    NotHeapSnapshot(String),
    #[error("unknown heap snapshot layout: {0}")]
    UnknownLayout(String),
    #[error("truncated snapshot: {0}")]
    Truncated(String),
    #[error("corrupt snapshot: {0}")]
    Corrupt(String),
    #[error("the snapshot's graph is empty (node_count is 0)")]
    EmptyGraph,
}

impl SnapshotError {
    pub fn new(kind: ErrorKind) -> SnapshotError {
        SnapshotError {
            source_name: None,
            kind,
        }
    }

    /// Names the file (or stream) the error is about, unless already named.
    pub fn with_source(mut self, name: impl Into<PathBuf>) -> SnapshotError {
        self.source_name.get_or_insert(name.into());
        self
    }
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source_name {
            Some(p) => write!(f, "{}: {}", p.display(), self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

/// No `source()`: the message already contains the cause, and error reporters that print
/// the chain (`{:#}`) would repeat it.
impl std::error::Error for SnapshotError {}

impl From<ErrorKind> for SnapshotError {
    fn from(kind: ErrorKind) -> Self {
        SnapshotError::new(kind)
    }
}

impl From<std::io::Error> for SnapshotError {
    fn from(e: std::io::Error) -> Self {
        SnapshotError::new(ErrorKind::Io(e))
    }
}

pub type Result<T, E = SnapshotError> = std::result::Result<T, E>;
