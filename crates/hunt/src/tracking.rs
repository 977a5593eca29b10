//! When allocation tracking runs. V8 walks the JavaScript stack at every allocation while it
//! tracks, which made a service's requests 5 to 10 times slower, so a hunt tracks only the
//! tail of its last round: enough of the leaked objects to show where they are made, all in
//! the last snapshot, at a fraction of the cost.
//!
//! The load runs on worker threads and the inspector on this one, so the tracking starts at
//! a gate: the workers that reach the first tracked iteration wait there until this thread
//! has turned tracking on, and no tracked iteration runs untracked.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// The last round's tracked tail: a quarter of it, at least this many iterations (all of a
/// shorter round).
const MIN_TRACKED_ITERATIONS: u64 = 50;

/// The iteration of a round of `iterations` from which to track (0: from its start).
pub fn tracked_from(iterations: u64) -> u64 {
    let tracked = (iterations / 4).max(MIN_TRACKED_ITERATIONS).min(iterations);
    iterations - tracked
}

/// Workers wait here once `at` iterations are done, until [`Gate::open`].
pub struct Gate {
    at: u64,
    state: Mutex<State>,
    opened: Condvar,
}

#[derive(Default)]
struct State {
    reached: bool,
    open: bool,
}

/// However long the inspector takes to answer, the load is never held longer than this.
const LONGEST_WAIT: Duration = Duration::from_secs(30);

impl Gate {
    pub fn new(at: u64) -> Gate {
        Gate {
            at,
            state: Mutex::default(),
            opened: Condvar::new(),
        }
    }

    /// Called by a worker with the iterations done so far.
    pub fn pass(&self, done: u64) {
        if done < self.at {
            return;
        }
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.reached = true;
        let deadline = std::time::Instant::now() + LONGEST_WAIT;
        while !s.open {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            s = self
                .opened
                .wait_timeout(s, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// True once a worker waits and the gate is still closed: time to start tracking.
    pub fn waiting(&self) -> bool {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.reached && !s.open
    }

    pub fn open(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.open = true;
        self.opened.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_of_the_last_round_is_tracked() {
        assert_eq!(tracked_from(1000), 750);
        assert_eq!(tracked_from(300), 225);
        assert_eq!(tracked_from(150), 100);
        assert_eq!(tracked_from(20), 0);
    }

    #[test]
    fn workers_wait_at_the_gate_until_it_opens() {
        let gate = Gate::new(10);
        gate.pass(3); // before the gate: no wait
        assert!(!gate.waiting());
        std::thread::scope(|s| {
            let w = s.spawn(|| gate.pass(10));
            // Condition, not sleep: the worker reaches the gate, then is let through.
            while !gate.waiting() {
                std::thread::yield_now();
            }
            assert!(!w.is_finished());
            gate.open();
            w.join().unwrap();
        });
        assert!(!gate.waiting());
        gate.pass(11); // open: no wait
    }
}
