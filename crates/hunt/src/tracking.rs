//! When allocation tracking runs. V8 walks the JavaScript stack at every allocation while it
//! tracks, which made a service's requests 5 to 10 times slower, so a hunt tracks only the
//! tail of its last round: enough of the leaked objects to show where they are made, all in
//! the last snapshot, at a fraction of the cost.
//!
//! The load runs on worker threads and the inspector on this one, so the tracking starts at
//! a gate: the workers that reach the first tracked iteration wait there until this thread
//! has turned tracking on, and no tracked iteration runs untracked.
//!
//! V8's optimizing compilers hide what the tracker needs, so a hunt with stacks asks V8, as
//! soon as it connects, to compile without two of their tricks (see [`keep_stacks_whole`]).

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use leakhunt_inspector::Session;

/// V8 flags for code compiled from now on:
/// - `--no-allocation-site-pretenuring`: optimized code otherwise allocates objects that
///   tend to survive (a leak's objects, exactly) straight in the old generation, and those
///   allocations reach no allocation tracker: the leaked objects made while tracking had no
///   trace, and the memory they took still carried the traces of earlier, dead objects (a
///   socket's, a parser's), so the stacks named the runtime (measured on a handler keeping
///   an object per request, 800 iterations: 1 of 200 tracked objects kept its own trace;
///   with the flag 197);
/// - `--no-turbo-inlining --no-maglev-inlining`: the tracker records each physical frame's
///   function, so a helper inlined into its caller vanished from the stack, and the
///   statement was looked for in the wrong function.
///
/// The heap the hunt measures stays the same (what is reachable does not depend on where it
/// was allocated); the service runs somewhat slower (`bench/stacks.sh`).
const WHOLE_STACKS_FLAGS: &str =
    "--no-allocation-site-pretenuring --no-turbo-inlining --no-maglev-inlining";

/// V8's defaults for the same optimizations, set again in a service the hunt attached to
/// (it keeps running after the hunt, and should run as fast as before).
const DEFAULT_OPTIMIZATION_FLAGS: &str =
    "--allocation-site-pretenuring --turbo-inlining --maglev-inlining";

/// Sets [`WHOLE_STACKS_FLAGS`] in the target through `v8.setFlagsFromString`. A runtime
/// without it (not Node) is left alone: its stacks are what they are.
pub fn keep_stacks_whole(session: &mut Session) {
    set_v8_flags(session, WHOLE_STACKS_FLAGS);
}

/// Puts V8's default optimizations back (for code compiled from now on).
pub fn restore_optimizations(session: &mut Session) {
    set_v8_flags(session, DEFAULT_OPTIMIZATION_FLAGS);
}

fn set_v8_flags(session: &mut Session, flags: &str) {
    let expression = format!(
        "(() => {{ const v8 = process.getBuiltinModule?.('v8') \
         ?? process.mainModule?.require?.('v8'); \
         if (!v8?.setFlagsFromString) return false; \
         v8.setFlagsFromString('{flags}'); return true; }})()"
    );
    // Best effort: the stacks are a help, never a reason to fail the hunt.
    let _ = session.evaluate(&expression);
}

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
