//! What a hunt found is a [`HuntReport`] (crate `leakhunt-findings`): the leak diagnosis plus
//! what the heap and the load did. This turns the load runner's figures into it.

use leakhunt_findings::{CountUnit, Explanation, LeakReport, Pattern, RoundLoad, StepTimeouts};
use leakhunt_load::{RunStats, Scenario};

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
        timed_out: s.timed_out,
        timeouts: s
            .steps_mostly_timed_out()
            .map(|step| StepTimeouts {
                step: step.label.clone(),
                requests: step.requests,
                timed_out: step.timed_out,
                timeout_ms: step.timeout.as_millis().try_into().unwrap_or(u64::MAX),
            })
            .collect(),
    }
}

/// Marks the collections that gain one entry per iteration when the scenario gives every
/// iteration a new `{{seq}}` value (an order id, a signup's email): a collection keyed by
/// such values grows by design, and the report says so beside the suspect.
pub fn note_one_entry_per_new_key(leaks: &mut LeakReport, scenario: &Scenario, per_step: u64) {
    let uses_sequence = scenario.steps.iter().any(|s| {
        s.path.uses_sequence()
            || s.headers.iter().any(|(_, t)| t.uses_sequence())
            || s.body
                .as_ref()
                .is_some_and(|b| b.template().uses_sequence())
    });
    if !uses_sequence || per_step == 0 {
        return;
    }
    for s in &mut leaks.suspects {
        let one_per_iteration =
            (s.count_per_step - per_step as f64).abs() <= 0.02 * per_step as f64;
        // Only a keyed collection (a Map, a Set, an object used as a dictionary) can hold
        // one entry per key; a list gains an entry per call whatever the values are.
        let keyed = match &s.explanation {
            Explanation::UnboundedCollection {
                collection_class, ..
            } => !collection_class.ends_with("Array"),
            _ => false,
        };
        s.one_entry_per_new_key = s.pattern == Pattern::UnboundedCollection
            && keyed
            && matches!(s.count_unit, CountUnit::Objects | CountUnit::Entries)
            && one_per_iteration;
    }
}
