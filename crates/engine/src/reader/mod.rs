//! Reading heap snapshots: from a path, stdin or any `Read`, gzip detected by its magic bytes.
//!
//! The reader streams: a background thread reads (and inflates) 1 MiB blocks while the parser
//! turns numbers straight into the graph's preallocated columns. Memory is the graph itself
//! plus a few blocks, never the file.

mod blocks;
mod layout;
mod lexer;
mod v8;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::error::{ErrorKind, Result, SnapshotError};
use crate::graph::HeapGraph;
use blocks::{Blocks, Counting};

/// Options for reading a snapshot.
#[derive(Clone, Default)]
pub struct ReadOptions {
    /// Incremented with every byte taken from the source (compressed bytes for gzip), so a
    /// caller can draw progress against the file's size from another thread.
    pub bytes_read: Option<Arc<AtomicU64>>,
}

/// Reads a snapshot file; `-` means standard input. Errors name the file.
pub fn read_path(path: &Path, opts: &ReadOptions) -> Result<HeapGraph> {
    let result = if path.as_os_str() == "-" {
        read_from(io::stdin(), opts)
    } else {
        match File::open(path) {
            Ok(f) => read_from(f, opts),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(SnapshotError::from(io::Error::new(e.kind(), "no such file")))
            }
            Err(e) => Err(e.into()),
        }
    };
    result.map_err(|e| e.with_source(path))
}

/// Reads a snapshot from any byte source; gzip is recognised and inflated transparently.
pub fn read_from<R: Read + Send + 'static>(source: R, opts: &ReadOptions) -> Result<HeapGraph> {
    let counter = opts.bytes_read.clone().unwrap_or_default();
    let mut buffered = BufReader::with_capacity(64 * 1024, Counting::new(source, counter));
    let head = buffered.fill_buf()?;
    let blocks = if head.starts_with(&[0x1f, 0x8b]) {
        Blocks::spawn(flate2::read::MultiGzDecoder::new(buffered))
    } else {
        Blocks::spawn(buffered)
    };
    let mut lexer = lexer::Lexer::new(blocks);
    v8::parse(&mut lexer).map_err(|e| match e.kind {
        // A gzip stream cut short surfaces as an I/O error from the decoder.
        ErrorKind::Io(ref io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            ErrorKind::Truncated(format!("the compressed stream ends early ({io})")).into()
        }
        _ => e,
    })
}

/// Reads a snapshot held in memory (tests, small inputs).
pub fn read_bytes(bytes: Vec<u8>) -> Result<HeapGraph> {
    read_from(io::Cursor::new(bytes), &ReadOptions::default())
}
