//! Stage timings on stderr when `LEAKHUNT_TIMINGS` is set: how the benchmark notes tell
//! parsing from dominators from distances, without a profiler.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> Option<Instant> {
    static START: OnceLock<Option<Instant>> = OnceLock::new();
    *START.get_or_init(|| std::env::var_os("LEAKHUNT_TIMINGS").map(|_| Instant::now()))
}

/// A stage that reports its duration when dropped.
pub struct Stage {
    name: &'static str,
    started: Option<Instant>,
}

/// Starts timing `name` (free when timings are off).
pub fn stage(name: &'static str) -> Stage {
    Stage {
        name,
        started: enabled().map(|_| Instant::now()),
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        if let (Some(t), Some(origin)) = (self.started, enabled()) {
            eprintln!(
                "[timing] {:<28} {:>8.3}s  (at {:.3}s)",
                self.name,
                t.elapsed().as_secs_f64(),
                origin.elapsed().as_secs_f64()
            );
        }
    }
}
