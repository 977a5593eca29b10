//! What a hunt found is a [`HuntReport`] (crate `leakhunt-findings`): the leak diagnosis plus
//! what the heap and the load did. This turns the load runner's figures into it.

use leakhunt_findings::RoundLoad;
use leakhunt_load::RunStats;

pub use leakhunt_findings::{GrowthFigure, GrowthGate, HuntReport, MemoryAfterGc, ScenarioInfo};

/// One round of load as the report keeps it.
pub fn round_load(s: &RunStats) -> RoundLoad {
    RoundLoad {
        iterations: s.iterations,
        requests: s.requests,
        failed: s.failed,
        seconds: s.duration.as_secs_f64(),
        requests_per_second: s.requests_per_second,
        p50_ms: s.latency.p50.as_secs_f64() * 1e3,
        p99_ms: s.latency.p99.as_secs_f64() * 1e3,
        errors: s.errors.clone(),
    }
}
