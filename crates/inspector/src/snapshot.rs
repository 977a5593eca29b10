//! Streaming heap snapshots out of the target.
//!
//! `HeapProfiler.takeHeapSnapshot` answers with a stream of events:
//! `reportHeapSnapshotProgress` while V8 builds the graph, then
//! `addHeapSnapshotChunk` pieces of the JSON text (100 KiB each on Node 20/22,
//! 1 MiB on Node 24, cut anywhere, even inside a number), and only after the last
//! chunk the command's reply. Snapshots can be gigabytes, so every chunk goes to
//! the caller's sink as soon as it arrives; nothing here holds more than one.

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use leakhunt_atomic_write::AtomicFile;

use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;

use crate::error::{InspectorError, Result};
use crate::session::{Session, Wait};

/// Progress of a snapshot, reported on every progress event and every chunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SnapshotProgress {
    /// Heap graph nodes processed so far (from `reportHeapSnapshotProgress`).
    pub done_nodes: u64,
    /// Roughly the node count of the snapshot; 0 until the first progress event.
    pub total_nodes: u64,
    /// The graph is built; serialisation (the chunks) follows.
    pub graph_finished: bool,
    /// Snapshot bytes received so far.
    pub bytes: u64,
    pub chunks: u64,
}

/// What a finished snapshot amounted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotStats {
    pub bytes: u64,
    pub chunks: u64,
    /// From sending the command to its reply: graph building plus transfer.
    pub elapsed: Duration,
    /// From the first chunk to the reply: the transfer alone.
    pub transfer: Duration,
}

impl SnapshotStats {
    /// Transfer speed in MB/s (10^6 bytes), over the chunk phase.
    pub fn transfer_mb_per_s(&self) -> f64 {
        let secs = self.transfer.as_secs_f64();
        if secs <= 0.0 {
            return 0.0;
        }
        self.bytes as f64 / 1e6 / secs
    }
}

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow)]
    chunk: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Progress {
    #[serde(default)]
    done: f64,
    #[serde(default)]
    total: f64,
    #[serde(default)]
    finished: bool,
}

impl Session {
    /// Takes a heap snapshot, handing each chunk to `sink` as it arrives.
    ///
    /// Completion is the command's reply, which Node sends after the last
    /// chunk. If `sink` fails, the rest of the snapshot is still read (and
    /// dropped) so the session stays usable, then [`InspectorError::Sink`] is
    /// returned. If the target dies meanwhile: [`InspectorError::Disconnected`].
    /// Bounded by the snapshot idle timeout (no message for that long), not by
    /// the call timeout, since big heaps take minutes.
    pub fn take_snapshot(
        &mut self,
        sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
        progress: &mut dyn FnMut(SnapshotProgress),
    ) -> Result<SnapshotStats> {
        const METHOD: &str = "HeapProfiler.takeHeapSnapshot";
        let start = Instant::now();
        let id = self.write_command(METHOD, json!({ "reportProgress": true }))?;
        self.flush(METHOD)?;
        let mut state = SnapshotProgress::default();
        let mut first_chunk: Option<Instant> = None;
        let mut sink_error: Option<io::Error> = None;
        let mut on_event = |method: &str, params: Option<&RawValue>| -> Result<bool> {
            match method {
                "HeapProfiler.addHeapSnapshotChunk" => {
                    let params = params
                        .ok_or_else(|| InspectorError::Protocol("chunk without params".into()))?;
                    let c: Chunk<'_> = serde_json::from_str(params.get()).map_err(|e| {
                        InspectorError::Protocol(format!("bad addHeapSnapshotChunk: {e}"))
                    })?;
                    first_chunk.get_or_insert_with(Instant::now);
                    state.bytes += c.chunk.len() as u64;
                    state.chunks += 1;
                    if sink_error.is_none() {
                        if let Err(e) = sink(c.chunk.as_bytes()) {
                            sink_error = Some(e);
                        }
                    }
                    progress(state);
                    Ok(true)
                }
                "HeapProfiler.reportHeapSnapshotProgress" => {
                    if let Some(p) =
                        params.and_then(|p| serde_json::from_str::<Progress>(p.get()).ok())
                    {
                        state.done_nodes = p.done as u64;
                        state.total_nodes = p.total as u64;
                        state.graph_finished |= p.finished;
                        progress(state);
                    }
                    Ok(true)
                }
                _ => Ok(false),
            }
        };
        let wait = Wait::Idle(self.snapshot_idle_timeout);
        self.wait_reply(id, METHOD, wait, &mut on_event)?;
        if let Some(e) = sink_error {
            return Err(InspectorError::Sink(e));
        }
        let end = Instant::now();
        Ok(SnapshotStats {
            bytes: state.bytes,
            chunks: state.chunks,
            elapsed: end - start,
            transfer: first_chunk.map(|t| end - t).unwrap_or_default(),
        })
    }

    /// Takes a heap snapshot into `path`, atomically.
    ///
    /// Chunks go to a new file with a unique name next to `path` (mode 0600: a heap holds
    /// every secret the service has in memory; never opened through a symlink, see
    /// `leakhunt_atomic_write`) and to `tee` if given; then the file is fsynced and renamed
    /// to `path`, replacing whatever entry had that name (a symlink is replaced, not written
    /// through). On any error the temporary file is removed; no other file is ever touched.
    pub fn snapshot_to_file(
        &mut self,
        path: &Path,
        tee: Option<&mut dyn Write>,
    ) -> Result<SnapshotStats> {
        self.snapshot_to_file_with_progress(path, tee, &mut |_| {})
    }

    /// [`Session::snapshot_to_file`] with a progress callback.
    pub fn snapshot_to_file_with_progress(
        &mut self,
        path: &Path,
        mut tee: Option<&mut dyn Write>,
        progress: &mut dyn FnMut(SnapshotProgress),
    ) -> Result<SnapshotStats> {
        let mut file = AtomicFile::create(path)
            .map_err(|e| InspectorError::io(format!("creating {}", path.display()), e))?;
        let mut head = [0u8; 12];
        let mut head_len = 0usize;
        let mut last = 0u8;
        let mut sink = |bytes: &[u8]| -> io::Result<()> {
            if head_len < head.len() {
                let n = (head.len() - head_len).min(bytes.len());
                head[head_len..head_len + n].copy_from_slice(&bytes[..n]);
                head_len += n;
            }
            if let Some(&b) = bytes.last() {
                last = b;
            }
            file.write_all(bytes)?;
            if let Some(t) = tee.as_mut() {
                t.write_all(bytes)?;
            }
            Ok(())
        };
        // On an error below, `file` is dropped unfinished, which removes it.
        let stats = self.take_snapshot(&mut sink, progress)?;
        if !head[..head_len].starts_with(b"{\"snapshot\"") || last != b'}' {
            return Err(InspectorError::Protocol(format!(
                "the snapshot text is not a complete V8 heap snapshot ({} bytes)",
                stats.bytes
            )));
        }
        if let Some(t) = tee.as_mut() {
            t.flush().map_err(InspectorError::Sink)?;
        }
        file.commit()
            .map_err(|e| InspectorError::io(format!("writing {}", path.display()), e))?;
        Ok(stats)
    }
}
