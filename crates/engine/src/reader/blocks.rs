//! Bytes in, blocks out: a reader thread fills fixed-size blocks (decompressing gzip on the
//! way) and pre-scans their numbers while the parser works on the previous one, so that
//! reading, inflating and tokenizing overlap with storing.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::numbers::Tokens;

/// Small in tests, so that every test crosses block boundaries in odd places.
const BLOCK_SIZE: usize = if cfg!(test) { 4099 } else { 1 << 20 };
/// Blocks in flight: enough to ride out a slow read, small enough to stay a few MB.
const QUEUE_DEPTH: usize = 2;

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

/// A chunk of input and the numbers the reader thread found in it.
#[derive(Default)]
pub(crate) struct Block {
    pub bytes: Vec<u8>,
    pub tokens: Tokens,
}

/// The consumer end: hands out filled blocks in order and takes spent ones back for reuse.
pub(crate) struct Blocks {
    filled: Receiver<io::Result<Block>>,
    spent: Sender<Block>,
    /// Blocks sent and not yet taken: tells the reader whether the parser is waiting.
    queued: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Blocks {
    /// Starts the reader thread over `source`.
    pub(crate) fn spawn<R: Read + Send + 'static>(mut source: R) -> Blocks {
        let (filled_tx, filled) = mpsc::sync_channel::<io::Result<Block>>(QUEUE_DEPTH);
        let (spent, spent_rx) = mpsc::channel::<Block>();
        let queued = Arc::new(AtomicUsize::new(0));
        let q = queued.clone();
        let thread = std::thread::Builder::new()
            .name("leakhunt-read".into())
            .spawn(move || fill_blocks(&mut source, &filled_tx, &spent_rx, &q))
            .expect("spawn reader thread");
        Blocks {
            filled,
            spent,
            queued,
            thread: Some(thread),
        }
    }

    /// The next block, or `None` at end of input. `spent` is returned to the pool.
    pub(crate) fn next(&mut self, spent: Block) -> io::Result<Option<Block>> {
        if spent.bytes.capacity() > 0 {
            let _ = self.spent.send(spent);
        }
        let next = self.filled.recv();
        if next.is_ok() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
        match next {
            Ok(Ok(block)) if block.bytes.is_empty() => Ok(None),
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

/// Reads blocks until the source ends. Each block's numbers are pre-scanned here only when
/// the parser has blocks waiting (it is the slower side); when it waits for us, the block
/// goes as it is and the parser scans it itself. So the two threads share the scanning in
/// whatever proportion keeps both busy, whatever the file and the machine.
fn fill_blocks(
    source: &mut dyn Read,
    filled: &SyncSender<io::Result<Block>>,
    spent: &Receiver<Block>,
    queued: &AtomicUsize,
) {
    let send = |msg: io::Result<Block>| {
        queued.fetch_add(1, Ordering::Relaxed);
        filled.send(msg).is_ok()
    };
    let mut blocks_sent = 0usize;
    loop {
        let mut block = spent.try_recv().unwrap_or_else(|_| Block {
            bytes: Vec::with_capacity(BLOCK_SIZE),
            tokens: Tokens::default(),
        });
        let bytes = &mut block.bytes;
        bytes.resize(BLOCK_SIZE, 0);
        let mut len = 0;
        let result = loop {
            match source.read(&mut bytes[len..]) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    len += n;
                    if len == bytes.len() {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        bytes.truncate(len);
        // Tests take both paths on alternate blocks, whatever the timing.
        let prescan = if cfg!(test) {
            blocks_sent % 2 == 1
        } else {
            queued.load(Ordering::Relaxed) > 0
        };
        blocks_sent += 1;
        if prescan {
            block.tokens.scan(&block.bytes);
        } else {
            block.tokens.skip();
        }
        let done = len == 0;
        let msg = match result {
            Ok(()) => Ok(block),
            Err(e) if len == 0 => Err(e),
            Err(e) => {
                // Deliver what was read, then the error.
                if !send(Ok(block)) {
                    return;
                }
                Err(e)
            }
        };
        let is_err = msg.is_err();
        if !send(msg) || done || is_err {
            return;
        }
    }
}
