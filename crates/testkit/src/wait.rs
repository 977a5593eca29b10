//! Waiting for something to happen: poll a condition until it holds or a generous deadline
//! passes. The deadline only bounds a failure (a hang lasts minutes); a passing test waits
//! exactly as long as the condition takes.

use std::time::{Duration, Instant};

/// Polls `cond` until it holds; panics naming `what` when `deadline` passed first.
pub fn wait_until(deadline: Duration, what: &str, cond: impl FnMut() -> bool) {
    assert!(
        poll_until(deadline, cond),
        "timed out after {deadline:?} waiting for {what}"
    );
}

/// Polls `cond` until it holds or `deadline` passed; whether it held. First checks often
/// (most conditions hold within milliseconds), then every 50 ms at most.
pub fn poll_until(deadline: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    let mut pause = Duration::from_millis(1);
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return cond();
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn returns_as_soon_as_the_condition_holds() {
        let calls = Cell::new(0);
        wait_until(Duration::from_secs(60), "the third call", || {
            calls.set(calls.get() + 1);
            calls.get() == 3
        });
        assert_eq!(calls.get(), 3);
    }

    #[test]
    #[should_panic(expected = "waiting for the impossible")]
    fn names_what_it_waited_for_when_the_deadline_passes() {
        wait_until(Duration::from_millis(5), "the impossible", || false);
    }

    #[test]
    fn a_condition_that_never_holds_is_false() {
        assert!(!poll_until(Duration::ZERO, || false));
    }
}
