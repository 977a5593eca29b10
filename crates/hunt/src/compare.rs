//! Before and after a fix: two hunt reports side by side. A suspect is the same in both when
//! it has the same pattern and class and is held at the same place (its file, or what holds
//! it).

use leakhunt_findings::{
    Change, ComparedSuspect, Comparison, GrowthFigure, HuntReport, SCHEMA_VERSION,
};

fn compared(r: &HuntReport, change: Change) -> Vec<ComparedSuspect> {
    r.leaks
        .suspects
        .iter()
        .map(|s| ComparedSuspect {
            change,
            pattern: s.pattern,
            class: s.class.clone(),
            location: s.location.clone(),
            owner: s.owner.clone(),
            bytes_per_step: s.bytes_per_step,
        })
        .collect()
}

fn same(a: &ComparedSuspect, b: &ComparedSuspect) -> bool {
    let file = |s: &ComparedSuspect| s.location.as_ref().map(|l| l.file.clone());
    a.pattern == b.pattern
        && a.class == b.class
        && match (file(a), file(b)) {
            (Some(x), Some(y)) => x == y,
            (None, None) => a.owner == b.owner,
            _ => false,
        }
}

pub fn compare(before: &HuntReport, after: &HuntReport) -> Comparison {
    let (b, a) = (compared(before, Change::Gone), compared(after, Change::New));
    let mut suspects = Vec::new();
    for mut s in b.iter().cloned() {
        if a.iter().any(|x| same(x, &s)) {
            s.change = Change::Remaining;
        }
        suspects.push(s);
    }
    suspects.extend(a.into_iter().filter(|s| !b.iter().any(|x| same(x, s))));
    // The figure the gate checks (heap used + external), when both hunts have it: a fix that
    // stops keeping Buffers shows there, not in the JS heap.
    let figure = match (before.gated_growth().1, after.gated_growth().1) {
        (GrowthFigure::HeapUsedPlusExternal, GrowthFigure::HeapUsedPlusExternal) => {
            GrowthFigure::HeapUsedPlusExternal
        }
        _ => GrowthFigure::JsHeap,
    };
    Comparison {
        schema_version: SCHEMA_VERSION,
        growth_before: before.growth_of(figure),
        growth_after: after.growth_of(figure),
        growth_figure: figure,
        verdict_before: before.leaks.verdict,
        verdict_after: after.leaks.verdict,
        suspects,
    }
}

#[cfg(test)]
mod tests {
    use leakhunt_findings::{LeakReport, MemoryAfterGc, ScenarioInfo};

    use super::*;

    /// A hunt of 1,000 iterations whose heap used and external memory went from 5 MB and
    /// 1 MB to these, with the JS heap as `Runtime.getHeapUsage` saw it.
    fn hunt(heap_used: u64, external: u64, measured: bool) -> HuntReport {
        let memory = |heap_used_bytes, external_bytes| MemoryAfterGc {
            heap_used_bytes,
            external_bytes,
            array_buffers_bytes: external_bytes,
            rss_bytes: 60_000_000,
            code_bytes: 0,
        };
        let r = HuntReport {
            leaks: LeakReport::new(vec![], vec![]),
            runtime: "node".into(),
            command: None,
            scenario: ScenarioInfo {
                source: String::new(),
                steps: vec![],
                iterations_per_round: 500,
                concurrency: 1,
            },
            rounds: 2,
            iterations: 1000,
            heap_after_gc_bytes: vec![5_000_000, heap_used],
            growth_bytes_per_iteration: HuntReport::growth_per_iteration(
                &[5_000_000, heap_used],
                1000,
            ),
            memory_after_gc: vec![],
            memory_growth_bytes_per_iteration: None,
            rss_growth_bytes_per_iteration: None,
            grows_outside_js_heap: false,
            load: vec![],
            growth_gate: None,
            out_dir: None,
        };
        if !measured {
            return r;
        }
        r.with_memory(vec![
            memory(5_000_000, 1_000_000),
            memory(heap_used, external),
        ])
    }

    #[test]
    fn growth_is_compared_as_the_gate_counts_it() {
        // Buffers kept per request: 10 kB a request outside the JS heap, gone after the fix.
        let c = compare(
            &hunt(5_200_000, 11_000_000, true),
            &hunt(5_000_000, 1_000_000, true),
        );
        assert_eq!(c.growth_figure, GrowthFigure::HeapUsedPlusExternal);
        assert_eq!((c.growth_before, c.growth_after), (10_200.0, 0.0));
    }

    #[test]
    fn a_hunt_without_memory_figures_is_compared_by_the_js_heap() {
        let c = compare(
            &hunt(5_200_000, 11_000_000, true),
            &hunt(5_100_000, 0, false),
        );
        assert_eq!(c.growth_figure, GrowthFigure::JsHeap);
        assert_eq!((c.growth_before, c.growth_after), (200.0, 100.0));
    }
}
