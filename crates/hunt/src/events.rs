//! What a hunt reports while it runs, for progress displays.

use std::path::Path;

use leakhunt_findings::StepTimeouts;
use leakhunt_load::RunStats;

pub enum HuntEvent<'a> {
    /// The service was started (its inspector URL; a note when NODE_OPTIONS was used).
    Launched {
        ws_url: &'a str,
        notice: Option<&'a str>,
    },
    /// Attached to a running service's inspector (a note, e.g. when it was already open
    /// before leakhunt and stays open).
    Attached {
        ws_url: &'a str,
        notice: Option<&'a str>,
    },
    /// The service accepts connections at this URL.
    Ready {
        base_url: &'a str,
        runtime: &'a str,
    },
    /// A round of load starts (`round` 0 is the warm-up).
    RoundStarted {
        round: usize,
        rounds: usize,
        iterations: u64,
    },
    /// Iterations done in the current round.
    LoadProgress {
        done: u64,
        of: u64,
    },
    RoundFinished {
        round: usize,
        stats: &'a RunStats,
        /// The steps most of whose requests timed out: worth a line of their own.
        timeouts: &'a [StepTimeouts],
    },
    /// A snapshot is being taken: bytes streamed so far.
    SnapshotProgress {
        index: usize,
        of: usize,
        bytes: u64,
    },
    SnapshotSaved {
        index: usize,
        path: &'a Path,
        heap_used: u64,
    },
    Diagnosing,
}

/// Receives a hunt's events (from the hunt's own thread).
pub trait Observer {
    fn event(&self, e: HuntEvent);
}

/// An observer that ignores everything.
impl Observer for () {
    fn event(&self, _: HuntEvent) {}
}
