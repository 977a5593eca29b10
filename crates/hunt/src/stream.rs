//! One snapshot, two destinations: the file on disk and the parser. The inspector hands us
//! chunks; a tee sends each to a parser thread over a bounded channel, and the parser reads
//! them as one stream (chunks split numbers and strings anywhere; the reader does not care).

use std::io::{self, Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use leakhunt_diagnosis::leaks::Measured;
use leakhunt_engine::reader::{read_from, ReadOptions};
use leakhunt_engine::SnapshotError;

/// Chunks in flight between the inspector and the parser (each up to 1 MiB).
const DEPTH: usize = 32;

/// `Read` over chunks arriving on a channel; end of input when the sender is dropped.
struct ChunkReader {
    rx: Receiver<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.current = chunk;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The writing end: passed to the inspector as the snapshot's tee.
pub struct ParserFeed {
    tx: Option<SyncSender<Vec<u8>>>,
}

impl Write for ParserFeed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // A parser that stopped (bad input) must not stop the file from being written; its
        // error is reported when it is joined.
        if let Some(tx) = &self.tx {
            if tx.send(buf.to_vec()).is_err() {
                self.tx = None;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl ParserFeed {
    /// Ends the stream (the parser sees end of input).
    pub fn finish(mut self) {
        self.tx.take();
    }
}

/// Starts a parser thread that reads the streamed snapshot, then analyses and measures it
/// for the leak diagnosis, named `name`. Only the `last` snapshot keeps its analysis: an
/// earlier one's is freed as soon as it is measured, before the next snapshot streams in.
pub fn parse_in_background(
    name: String,
    last: bool,
) -> (ParserFeed, JoinHandle<Result<Measured, SnapshotError>>) {
    let (tx, rx) = sync_channel(DEPTH);
    let reader = ChunkReader {
        rx,
        current: Vec::new(),
        pos: 0,
    };
    let handle = std::thread::Builder::new()
        .name("leakhunt-parse".into())
        .spawn(move || {
            let graph =
                read_from(reader, &ReadOptions::default()).map_err(|e| e.with_source(&name))?;
            Ok(if last {
                Measured::new(name, graph)
            } else {
                Measured::earlier(name, graph)
            })
        })
        .expect("spawn parser thread");
    (ParserFeed { tx: Some(tx) }, handle)
}
