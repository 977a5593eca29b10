//! A whole hunt: the diagnosis plus what the heap and the load did; and two hunts compared.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{LeakReport, Owner, Pattern, SourceLocation, Verdict};

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
    pub errors: BTreeMap<String, u64>,
}

/// A limit on heap growth per iteration, and whether the hunt went past it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct GrowthGate {
    pub max_bytes_per_iteration: u64,
    pub exceeded: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HuntReport {
    /// The diagnosis (`schema_version`, `verdict`, `suspects`, `snapshots` …), as `leaks
    /// --json` prints it.
    #[serde(flatten)]
    pub leaks: LeakReport,
    /// `node v20.20.2`.
    pub runtime: String,
    /// The command that was started, when leakhunt started it.
    pub command: Option<String>,
    pub scenario: ScenarioInfo,
    /// Rounds of load after the warm-up; a snapshot follows the warm-up and each round.
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub growth_gate: Option<GrowthGate>,
    /// Where the snapshots and `report.json` are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_dir: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Gone,
    Remaining,
    New,
}

/// A suspect as compared across two hunts: enough to recognise it and say what it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparedSuspect {
    pub change: Change,
    pub pattern: Pattern,
    pub class: String,
    #[serde(default)]
    pub location: Option<SourceLocation>,
    /// What holds it, when it has a name.
    #[serde(default)]
    pub owner: Option<Owner>,
    /// `bytes_per_step` in the report it comes from (the later one unless gone).
    pub bytes_per_step: f64,
}

impl HuntReport {
    /// Sets the growth gate: exceeded when the heap grew more than `max` bytes per iteration.
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

/// Two hunts, before and after a fix.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    #[serde(default = "crate::schema_version")]
    pub schema_version: u32,
    pub growth_before: f64,
    pub growth_after: f64,
    pub verdict_before: Verdict,
    pub verdict_after: Verdict,
    pub suspects: Vec<ComparedSuspect>,
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
