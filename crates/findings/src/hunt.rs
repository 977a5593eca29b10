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
    /// Requests ended by their timeout (counted in `failed` too).
    #[serde(default)]
    pub timed_out: u64,
    /// The steps most of whose requests timed out this round.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeouts: Vec<StepTimeouts>,
}

/// A step most of whose requests timed out in a round: its responses do not end within the
/// timeout (an event stream, a parked long poll, a slow endpoint), so each request waited it
/// out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTimeouts {
    /// `METHOD /path` as the scenario writes it.
    pub step: String,
    pub requests: u64,
    pub timed_out: u64,
    pub timeout_ms: u64,
}

impl StepTimeouts {
    /// One line naming the step and its timeout, for stderr and the text report.
    pub fn describe(&self) -> String {
        let timeout = if self.timeout_ms % 1000 == 0 {
            format!("{} s", self.timeout_ms / 1000)
        } else {
            format!("{} ms", self.timeout_ms)
        };
        format!(
            "{}: {} of {} requests timed out after {timeout} (a response that never ends: an event stream, a long poll, a slow endpoint?); each waited out the timeout: set the step's timeout or --request-timeout",
            self.step, self.timed_out, self.requests
        )
    }
}

/// A limit on growth per iteration, and whether the hunt went past it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct GrowthGate {
    pub max_bytes_per_iteration: u64,
    pub exceeded: bool,
    /// Which growth the limit was checked against.
    #[serde(default)]
    pub figure: GrowthFigure,
}

/// Which memory a growth figure counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrowthFigure {
    /// The JS heap alone (`growth_bytes_per_iteration`): the target had no `process`, or the
    /// report predates `memory_after_gc`.
    #[default]
    JsHeap,
    /// JS heap used + external memory, ArrayBuffer backing stores included
    /// (`memory_growth_bytes_per_iteration`).
    HeapUsedPlusExternal,
}

/// `process.memoryUsage()` in the target, read after the forced GC before a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryAfterGc {
    /// The JS heap in use (`heapUsed`).
    pub heap_used_bytes: u64,
    /// Memory outside the JS heap held by JS objects (`external`), ArrayBuffers included.
    pub external_bytes: u64,
    /// ArrayBuffer and Buffer backing stores (`arrayBuffers`), a part of `external_bytes`.
    pub array_buffers_bytes: u64,
    /// The whole process's resident memory (`rss`).
    pub rss_bytes: u64,
    /// The part of `heap_used_bytes` in V8's code and bytecode spaces (`code_space`,
    /// `trusted_space` and their large-object spaces); 0 when the target could not say.
    #[serde(default)]
    pub code_bytes: u64,
}

impl MemoryAfterGc {
    /// What the growth figure and the gate count: heap used + external, less V8's code
    /// (compiled as functions turn hot, thrown away by the snapshots' collections: it moves
    /// by itself, up or down, whatever the program keeps).
    pub fn counted_bytes(&self) -> u64 {
        self.heap_used_bytes.saturating_sub(self.code_bytes) + self.external_bytes
    }
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
    /// JS heap in use after garbage collection, at each snapshot (`Runtime.getHeapUsage`:
    /// ArrayBuffer backing stores are not in it).
    pub heap_after_gc_bytes: Vec<u64>,
    /// How much the JS heap grew for each iteration, between the first and the last snapshot.
    pub growth_bytes_per_iteration: f64,
    /// `process.memoryUsage()` after GC at each snapshot; empty when the target had no
    /// `process` to ask (then only the JS heap is measured).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memory_after_gc: Vec<MemoryAfterGc>,
    /// How much heap used + external grew for each iteration: the growth `--max-growth`
    /// checks when it is measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_growth_bytes_per_iteration: Option<f64>,
    /// How much the process's resident memory grew for each iteration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_growth_bytes_per_iteration: Option<f64>,
    /// External memory grew while the JS heap did not (native memory: ArrayBuffer and Buffer
    /// backing stores, memory addons report to V8).
    #[serde(default)]
    pub grows_outside_js_heap: bool,
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

/// Growth of external memory counts as native when it is at least this much per iteration …
const NATIVE_GROWTH_MIN: f64 = 1024.0;
/// … and at least this many times the JS heap's own growth.
const NATIVE_OVER_HEAP: f64 = 4.0;

impl HuntReport {
    /// Sets the growth gate: exceeded when the measured memory (heap used + external, or the JS
    /// heap alone when that is all there is) grew more than `max` bytes per iteration.
    pub fn apply_growth_gate(&mut self, max: u64) -> GrowthGate {
        let (growth, figure) = self.gated_growth();
        let gate = GrowthGate {
            max_bytes_per_iteration: max,
            exceeded: growth > max as f64,
            figure,
        };
        self.growth_gate = Some(gate);
        gate
    }

    /// The growth per iteration that counts, and what it counts.
    pub fn gated_growth(&self) -> (f64, GrowthFigure) {
        match self.memory_growth_bytes_per_iteration {
            Some(g) => (g, GrowthFigure::HeapUsedPlusExternal),
            None => (self.growth_bytes_per_iteration, GrowthFigure::JsHeap),
        }
    }

    /// The growth per iteration of `figure`: the JS heap's when this hunt did not measure
    /// heap used + external.
    pub fn growth_of(&self, figure: GrowthFigure) -> f64 {
        match (figure, self.memory_growth_bytes_per_iteration) {
            (GrowthFigure::HeapUsedPlusExternal, Some(g)) => g,
            _ => self.growth_bytes_per_iteration,
        }
    }

    /// Records `process.memoryUsage()` after GC at each snapshot (all of them or none) and
    /// what follows from it: growth of heap used + external, of RSS, and whether the growth
    /// is outside the JS heap. Needs `iterations` set.
    pub fn with_memory(mut self, memory: Vec<MemoryAfterGc>) -> Self {
        if memory.len() < 2 || memory.len() != self.heap_after_gc_bytes.len() {
            return self;
        }
        let per_iteration = |f: fn(&MemoryAfterGc) -> u64| {
            let series: Vec<u64> = memory.iter().map(f).collect();
            Self::growth_per_iteration(&series, self.iterations)
        };
        let counted = per_iteration(MemoryAfterGc::counted_bytes);
        let heap = per_iteration(|m| m.heap_used_bytes).max(0.0);
        let external = per_iteration(|m| m.external_bytes);
        let rss = per_iteration(|m| m.rss_bytes);
        // RSS is shown, not judged: taking a snapshot leaves tens of MB resident in the target
        // (measured: 54 → 87 → 90 MB on a service that keeps nothing), so its growth over a
        // hunt says more about the snapshots than about the service.
        self.grows_outside_js_heap =
            external >= NATIVE_GROWTH_MIN && external >= NATIVE_OVER_HEAP * heap;
        self.memory_growth_bytes_per_iteration = Some(counted);
        self.rss_growth_bytes_per_iteration = Some(rss);
        self.memory_after_gc = memory;
        self
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
    /// Growth per iteration before and after, both of the memory `growth_figure` names.
    pub growth_before: f64,
    pub growth_after: f64,
    /// What both growth figures count: heap used + external when both hunts measured it, the
    /// JS heap alone otherwise (so that the two are of the same memory).
    #[serde(default)]
    pub growth_figure: GrowthFigure,
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

    fn memory(heap: u64, external: u64, rss: u64) -> MemoryAfterGc {
        MemoryAfterGc {
            heap_used_bytes: heap,
            external_bytes: external,
            array_buffers_bytes: external,
            rss_bytes: rss,
            code_bytes: 0,
        }
    }

    fn report(heap: Vec<u64>) -> HuntReport {
        HuntReport {
            leaks: LeakReport::new(vec![], vec![]),
            runtime: "node".into(),
            command: None,
            scenario: ScenarioInfo {
                source: String::new(),
                steps: vec![],
                iterations_per_round: 1000,
                concurrency: 1,
            },
            rounds: 1,
            iterations: 1000,
            heap_after_gc_bytes: heap,
            growth_bytes_per_iteration: 0.0,
            memory_after_gc: vec![],
            memory_growth_bytes_per_iteration: None,
            rss_growth_bytes_per_iteration: None,
            grows_outside_js_heap: false,
            load: vec![],
            growth_gate: None,
            out_dir: None,
        }
    }

    #[test]
    fn external_growth_counts_in_the_gate_and_is_called_native() {
        let r = report(vec![5_000_000, 5_200_000]).with_memory(vec![
            memory(5_000_000, 1_000_000, 50_000_000),
            memory(5_200_000, 11_000_000, 61_000_000),
        ]);
        assert_eq!(r.memory_growth_bytes_per_iteration, Some(10_200.0));
        assert_eq!(r.rss_growth_bytes_per_iteration, Some(11_000.0));
        assert!(r.grows_outside_js_heap);
        let mut gated = r.clone();
        let gate = gated.apply_growth_gate(2000);
        assert!(gate.exceeded);
        assert_eq!(gate.figure, GrowthFigure::HeapUsedPlusExternal);
    }

    #[test]
    fn code_the_snapshots_throw_away_hides_no_growth() {
        // The first snapshot's collection drops 150 kB of bytecode that ran only at start-up,
        // while the program keeps 50 kB more: heap used falls, the data in it grows.
        let with_code = |heap, code| MemoryAfterGc {
            code_bytes: code,
            ..memory(heap, 1_000_000, 60_000_000)
        };
        let r = report(vec![6_000_000, 5_900_000]).with_memory(vec![
            with_code(6_000_000, 1_500_000),
            with_code(5_900_000, 1_350_000),
        ]);
        assert_eq!(r.memory_growth_bytes_per_iteration, Some(50.0));
        let mut gated = r.clone();
        assert!(gated.apply_growth_gate(40).exceeded);
    }

    #[test]
    fn heap_growth_with_its_rss_is_not_native() {
        let r = report(vec![5_000_000, 15_000_000]).with_memory(vec![
            memory(5_000_000, 1_000_000, 50_000_000),
            memory(15_000_000, 1_000_000, 61_000_000),
        ]);
        assert!(!r.grows_outside_js_heap);
    }

    #[test]
    fn without_memory_figures_the_gate_counts_the_js_heap() {
        let mut r = report(vec![5_000_000, 5_100_000]).with_memory(vec![]);
        r.growth_bytes_per_iteration = 100.0;
        assert!(r.memory_after_gc.is_empty());
        let gate = r.apply_growth_gate(50);
        assert!(gate.exceeded);
        assert_eq!(gate.figure, GrowthFigure::JsHeap);
    }
}
