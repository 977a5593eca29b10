//! What a hunt found: the leak diagnosis plus what the heap and the load did, as data
//! (`hunt --json FILE`, and the input of `compare`).

use leakhunt_diagnosis::LeakReport;
use leakhunt_load::RunStats;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioInfo {
    /// The scenario file, or the `--request` lines.
    pub source: String,
    /// `METHOD /path` of each step.
    pub steps: Vec<String>,
    pub iterations_per_round: u64,
    pub concurrency: usize,
}

/// One round of load.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoundLoad {
    pub iterations: u64,
    pub requests: u64,
    pub failed: u64,
    pub seconds: f64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Failures by description (empty when none failed).
    pub errors: std::collections::BTreeMap<String, u64>,
}

impl From<&RunStats> for RoundLoad {
    fn from(s: &RunStats) -> Self {
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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HuntReport {
    /// The diagnosis (`verdict`, `suspects`, `snapshots` …), as `leaks --json` prints it.
    #[serde(flatten)]
    pub leaks: LeakReport,
    /// `node v20.20.2`.
    pub runtime: String,
    /// The command that was started, when leakhunt started it.
    pub command: Option<String>,
    pub scenario: ScenarioInfo,
    /// Rounds of load after the warm-up (`--rounds`); a snapshot follows the warm-up and
    /// each round. 0 in reports written before this was recorded.
    #[serde(default)]
    pub rounds: usize,
    /// Iterations run between the first and the last snapshot.
    pub iterations: u64,
    /// Heap in use after garbage collection, at each snapshot.
    pub heap_after_gc_bytes: Vec<u64>,
    /// How much the heap grew for each iteration, between the first and the last snapshot.
    pub growth_bytes_per_iteration: f64,
    /// Load rounds, the warm-up first.
    pub load: Vec<RoundLoad>,
    /// The `--max-growth-per-iteration` CI gate, when one was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub growth_gate: Option<GrowthGate>,
}

/// A limit on heap growth per iteration, and whether this hunt went past it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct GrowthGate {
    pub max_bytes_per_iteration: u64,
    pub exceeded: bool,
}

impl HuntReport {
    /// Sets the growth gate: exceeded when the heap grew more than `max` per iteration.
    pub fn apply_growth_gate(&mut self, max: u64) -> GrowthGate {
        let gate = GrowthGate {
            max_bytes_per_iteration: max,
            exceeded: self.growth_bytes_per_iteration > max as f64,
        };
        self.growth_gate = Some(gate);
        gate
    }

    /// Growth per iteration from heap sizes after GC: (last − first) / iterations.
    pub fn growth_per_iteration(heap_after_gc: &[u64], iterations: u64) -> f64 {
        match (heap_after_gc.first(), heap_after_gc.last()) {
            (Some(&first), Some(&last)) if iterations > 0 => {
                (last as f64 - first as f64) / iterations as f64
            }
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_is_per_iteration_between_first_and_last() {
        assert_eq!(
            HuntReport::growth_per_iteration(&[1000, 3000, 5000], 2000),
            2.0
        );
        assert_eq!(HuntReport::growth_per_iteration(&[5000, 4000], 1000), -1.0);
        assert_eq!(HuntReport::growth_per_iteration(&[], 10), 0.0);
    }
}
