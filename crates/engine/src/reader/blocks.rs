//! Bytes in, blocks out: a reader thread fills fixed-size blocks (decompressing gzip on the
//! way) while the parser works on the previous one, so on two cores I/O and inflate overlap
//! with tokenizing instead of adding to it.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

const BLOCK_SIZE: usize = 1 << 20;
/// Blocks in flight: enough to ride out a slow read, small enough to stay a few MB.
const QUEUE_DEPTH: usize = 4;

/// Counts bytes as they come off the underlying source, for progress reporting.
pub(crate) struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Counting<R> {
    pub(crate) fn new(inner: R, counter: Arc<AtomicU64>) -> Self {
        Counting { inner, counter }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The consumer end: hands out filled blocks in order and takes spent ones back for reuse.
pub(crate) struct Blocks {
    filled: Receiver<io::Result<Vec<u8>>>,
    spent: Sender<Vec<u8>>,
    thread: Option<JoinHandle<()>>,
}

impl Blocks {
    /// Starts the reader thread over `source`.
    pub(crate) fn spawn<R: Read + Send + 'static>(mut source: R) -> Blocks {
        let (filled_tx, filled) = mpsc::sync_channel::<io::Result<Vec<u8>>>(QUEUE_DEPTH);
        let (spent, spent_rx) = mpsc::channel::<Vec<u8>>();
        let thread = std::thread::Builder::new()
            .name("leakhunt-read".into())
            .spawn(move || fill_blocks(&mut source, &filled_tx, &spent_rx))
            .expect("spawn reader thread");
        Blocks { filled, spent, thread: Some(thread) }
    }

    /// The next block, or `None` at end of input. `spent` is returned to the pool.
    pub(crate) fn next(&mut self, spent: Vec<u8>) -> io::Result<Option<Vec<u8>>> {
        if spent.capacity() > 0 {
            let _ = self.spent.send(spent);
        }
        match self.filled.recv() {
            Ok(Ok(block)) if block.is_empty() => Ok(None),
            Ok(Ok(block)) => Ok(Some(block)),
            Ok(Err(e)) => Err(e),
            Err(_) => Ok(None),
        }
    }
}

impl Drop for Blocks {
    fn drop(&mut self) {
        // Dropping the receiver makes the thread's next send fail, so it ends promptly even
        // when we stop early on an error.
        let (_, dead) = mpsc::sync_channel(0);
        drop(std::mem::replace(&mut self.filled, dead));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn fill_blocks(
    source: &mut dyn Read,
    filled: &SyncSender<io::Result<Vec<u8>>>,
    spent: &Receiver<Vec<u8>>,
) {
    loop {
        let mut block = spent.try_recv().unwrap_or_else(|_| Vec::with_capacity(BLOCK_SIZE));
        block.resize(BLOCK_SIZE, 0);
        let mut len = 0;
        let result = loop {
            match source.read(&mut block[len..]) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    len += n;
                    if len == block.len() {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        block.truncate(len);
        let done = len == 0;
        let msg = match result {
            Ok(()) => Ok(block),
            Err(e) if len == 0 => Err(e),
            Err(e) => {
                // Deliver what was read, then the error.
                if filled.send(Ok(block)).is_err() {
                    return;
                }
                Err(e)
            }
        };
        let is_err = msg.is_err();
        if filled.send(msg).is_err() || done || is_err {
            return;
        }
    }
}
