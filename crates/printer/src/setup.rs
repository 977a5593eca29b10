//! A hunt's setup and what the heap did, in words, for the top of every report: what ran,
//! with which load, the heap at each snapshot and the growth per iteration. Code names are in
//! backticks, as in `prose`.

use leakhunt_findings::{
    Change, GrowthFigure, HuntReport, LeakReport, MemoryAfterGc, NativeHolder, Suspect, Verdict,
};

use crate::bytes::{format_bytes, format_count};
use crate::document::Findings;
use crate::prose;

/// `Leak: 2 suspects grow at every step.` or `No leak: nothing grows at every step.`: the
/// verdict word (`Leak:`) and the rest, for formats that set the word apart.
pub fn headline(r: &LeakReport) -> (&'static str, String) {
    match r.verdict {
        Verdict::Clean => ("No leak:", "nothing grows at every step.".into()),
        Verdict::Leak => {
            let n = r.suspects.len();
            (
                "Leak:",
                format!(
                    "{} grow{} at every step.",
                    plural(n as u64, "suspect"),
                    if n == 1 { "s" } else { "" }
                ),
            )
        }
    }
}

/// `+1,000 objects, +660 kB per step (retains 2.0 MB now)`.
pub fn growth(s: &Suspect) -> String {
    if s.count_unit == leakhunt_findings::CountUnit::Bytes {
        // The count is the bytes: said once.
        return format!(
            "+{} per step (retains {} now)",
            format_bytes(s.bytes_per_step.round().max(0.0) as u64),
            format_bytes(s.retained_bytes)
        );
    }
    format!(
        "+{} {}, +{} per step (retains {} now)",
        prose::count_per_step(s.count_per_step),
        prose::unit(s.count_unit),
        format_bytes(s.bytes_per_step.round().max(0.0) as u64),
        format_bytes(s.retained_bytes)
    )
}

/// What became of a suspect after the fix: `gone`, `still there`, `new`.
pub fn change(c: Change) -> &'static str {
    match c {
        Change::Gone => "gone",
        Change::Remaining => "still there",
        Change::New => "new",
    }
}

/// What a growth figure counts: `heap used + external`, `JS heap`.
pub fn growth_figure(f: GrowthFigure) -> &'static str {
    match f {
        GrowthFigure::HeapUsedPlusExternal => "heap used + external",
        GrowthFigure::JsHeap => "JS heap",
    }
}

/// `leak`, `clean`.
pub fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Leak => "leak",
        Verdict::Clean => "clean",
    }
}

/// `` Hunted `node leaky/server.js` (node v20.20.2) with scenario.toml: a warm-up and 2 rounds
/// of 1,000 iterations × 3 requests ``.
pub fn what_ran(r: &HuntReport) -> String {
    let what = r
        .command
        .as_deref()
        .map(|c| format!("`{c}`"))
        .unwrap_or_else(|| "the attached service".into());
    format!(
        "Hunted {what} ({}) with {}: {}",
        r.runtime,
        r.scenario.source,
        rounds(r)
    )
}

/// `a warm-up of 100 iterations, then 2 rounds of 1,000 iterations × 3 requests`, or `a
/// warm-up and 2 rounds of …` when the warm-up is a full round. `--rounds` counts the rounds
/// after the warm-up, as this does.
pub fn rounds(r: &HuntReport) -> String {
    let per_round = r.scenario.iterations_per_round;
    let rounds = if r.rounds > 0 {
        r.rounds
    } else {
        r.heap_after_gc_bytes.len().saturating_sub(1)
    };
    let warmup = r.load.first().map_or(per_round, |l| l.iterations);
    let rounds_of = format!(
        "{} of {} × {}",
        plural(rounds as u64, "round"),
        plural(per_round, "iteration"),
        plural(r.scenario.steps.len() as u64, "request")
    );
    if warmup == per_round {
        format!("a warm-up and {rounds_of}")
    } else {
        format!(
            "a warm-up of {}, then {rounds_of}",
            plural(warmup, "iteration")
        )
    }
}

/// `1 round`, `1,000 iterations`.
pub fn plural(n: u64, word: &str) -> String {
    format!(
        "{} {word}{}",
        format_count(n),
        if n == 1 { "" } else { "s" }
    )
}

/// `+880 B per iteration`, `−1.2 kB per iteration`.
pub fn per_iteration(bytes: f64) -> String {
    let sign = if bytes < 0.0 { '−' } else { '+' };
    format!(
        "{sign}{} per iteration",
        format_bytes(bytes.abs().round() as u64)
    )
}

/// `9,000 requests in 1.6 s (5,600/s), 0 failed`.
pub fn load(r: &HuntReport) -> String {
    let requests: u64 = r.load.iter().map(|l| l.requests).sum();
    let failed: u64 = r.load.iter().map(|l| l.failed).sum();
    let seconds: f64 = r.load.iter().map(|l| l.seconds).sum();
    format!(
        "{} requests in {seconds:.1} s ({}/s), {} failed",
        format_count(requests),
        format_count((requests as f64 / seconds.max(1e-9)) as u64),
        format_count(failed)
    )
}

/// The load's failures, one line each over all rounds: `12 × connection refused`.
pub fn load_errors(r: &HuntReport) -> Vec<String> {
    let mut all: std::collections::BTreeMap<&str, u64> = Default::default();
    for (e, n) in r.load.iter().flat_map(|l| &l.errors) {
        *all.entry(e.as_str()).or_default() += n;
    }
    all.into_iter()
        .map(|(e, n)| format!("{} × {e}", format_count(n)))
        .collect()
}

/// A hunt's memory after GC that the growth counts, `warm-up` first: heap used + external
/// when the target said, the JS heap alone otherwise (see [`hunt_heap_title`]).
pub fn hunt_heap(h: &HuntReport) -> Vec<(String, u64)> {
    let counted: Vec<u64> = if h.memory_after_gc.is_empty() {
        h.heap_after_gc_bytes.clone()
    } else {
        h.memory_after_gc
            .iter()
            .map(MemoryAfterGc::counted_bytes)
            .collect()
    };
    counted
        .into_iter()
        .enumerate()
        .map(|(i, b)| (snapshot_label(i), b))
        .collect()
}

/// What [`hunt_heap`] counts.
pub fn hunt_heap_title(h: &HuntReport) -> &'static str {
    if h.memory_after_gc.is_empty() {
        "Heap after GC"
    } else {
        "Heap used + external after GC"
    }
}

/// The parts of a hunt's memory after GC, one row each at every snapshot (none when only the
/// JS heap was measured).
pub fn memory_rows(h: &HuntReport) -> Vec<(&'static str, Vec<u64>)> {
    if h.memory_after_gc.is_empty() {
        return Vec::new();
    }
    let row = |f: fn(&MemoryAfterGc) -> u64| h.memory_after_gc.iter().map(f).collect();
    vec![
        ("JS heap used", row(|m| m.heap_used_bytes)),
        ("External", row(|m| m.external_bytes)),
        ("ArrayBuffers", row(|m| m.array_buffers_bytes)),
        ("RSS", row(|m| m.rss_bytes)),
    ]
}

/// The memory parts in one line, first snapshot to last, with RSS's growth beside: `JS heap
/// 5.0 MB → 5.2 MB, external 1.0 MB → 21 MB (ArrayBuffers …), RSS 50 MB → 72 MB (+11 kB per
/// iteration).`; or why only the JS heap was measured.
pub fn memory_detail(h: &HuntReport) -> String {
    let (Some(first), Some(last)) = (h.memory_after_gc.first(), h.memory_after_gc.last()) else {
        return "Only the JS heap was measured: `process.memoryUsage()` was not available in the \
                target, so memory outside it (ArrayBuffer and Buffer backing stores) is not counted."
            .into();
    };
    let span = |f: fn(&MemoryAfterGc) -> u64| {
        format!("{} → {}", format_bytes(f(first)), format_bytes(f(last)))
    };
    format!(
        "JS heap {}, external {} (ArrayBuffers {}), RSS {}{}.",
        span(|m| m.heap_used_bytes),
        span(|m| m.external_bytes),
        span(|m| m.array_buffers_bytes),
        span(|m| m.rss_bytes),
        h.rss_growth_bytes_per_iteration
            .map(|g| format!(" ({})", per_iteration(g)))
            .unwrap_or_default()
    )
}

/// When memory grows outside the JS heap and the heap itself does not: what grows, what the
/// snapshots show of it and what to try next.
pub fn native_note(h: &HuntReport) -> Option<String> {
    let (Some(first), Some(last)) = (h.memory_after_gc.first(), h.memory_after_gc.last()) else {
        return None;
    };
    if !h.grows_outside_js_heap {
        return None;
    }
    let growth = |f: fn(&MemoryAfterGc) -> u64| {
        (f(last) as f64 - f(first) as f64) / h.iterations.max(1) as f64
    };
    let heap = growth(|m| m.heap_used_bytes);
    let external = growth(|m| m.external_bytes);
    let mut note = format!(
        "Native memory grows outside the JS heap: external {} (ArrayBuffers {}), JS heap {}. ",
        per_iteration(external),
        per_iteration(growth(|m| m.array_buffers_bytes)),
        per_iteration(heap)
    );
    let holders = &h.leaks.native_memory;
    if holders.is_empty() {
        note.push_str(
            "The last snapshot shows no new ArrayBuffer backing stores (`system / \
             JSArrayBufferData`) that something keeps: the growth is memory native code \
             reports to V8 (an addon, a native module). Next: hunt with fewer modules loaded, \
             or count the handles and resources that stay open \
             (`process.getActiveResourcesInfo()`).",
        );
    } else {
        let mut kept: Vec<String> = holders
            .iter()
            .take(NATIVE_HOLDERS_SHOWN)
            .map(native_holder)
            .collect();
        if holders.len() > NATIVE_HOLDERS_SHOWN {
            kept.push(format!(
                "and {} more (in the JSON report)",
                holders.len() - NATIVE_HOLDERS_SHOWN
            ));
        }
        note.push_str(&format!(
            "New ArrayBuffer backing stores (`system / JSArrayBufferData`) since the warm-up, \
             by what keeps their Buffers: {}. Next: find where those Buffers are added and \
             drop them when done (copy the few bytes you need with `Buffer.from(buf)` rather \
             than keep a slice of a larger buffer).",
            kept.join("; ")
        ));
    }
    Some(note)
}

/// Holders of native memory named in the note (largest first); the JSON report has them all.
const NATIVE_HOLDERS_SHOWN: usize = 5;

/// `` `uploads` (Array @1234): 200 backing stores, 2.0 MB ``.
pub fn native_holder(n: &NativeHolder) -> String {
    let name = n
        .held_as
        .as_deref()
        .map(|v| format!("`{v}` "))
        .unwrap_or_default();
    format!(
        "{name}({} @{}): {}, {}",
        n.holder.class,
        n.holder.id,
        plural(n.count, "backing store"),
        format_bytes(n.bytes)
    )
}

/// A ladder's reachable heap, labelled with the snapshots' file names.
pub fn ladder_heap(r: &LeakReport) -> Vec<(String, u64)> {
    r.snapshots
        .iter()
        .map(|s| (file_name(&s.file).to_string(), s.reachable_size))
        .collect()
}

/// The label of a hunt's snapshot `i`: `warm-up`, then `round 1` … after each round.
pub fn snapshot_label(i: usize) -> String {
    match i {
        0 => "warm-up".into(),
        i => format!("round {i}"),
    }
}

/// The labels of the report's snapshots, first to last: as [`hunt_heap`] or [`ladder_heap`]
/// label them.
pub fn snapshot_labels(f: &Findings) -> Vec<String> {
    match f.hunt() {
        Some(h) => hunt_heap(h).into_iter().map(|(l, _)| l).collect(),
        None => ladder_heap(f.leaks()).into_iter().map(|(l, _)| l).collect(),
    }
}

/// The last part of a path or URL.
pub fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_reads_with_its_sign() {
        assert_eq!(per_iteration(880.2), "+880 B per iteration");
        assert_eq!(per_iteration(-1234.0), "−1.2 kB per iteration");
        assert_eq!(plural(1, "round"), "1 round");
        assert_eq!(plural(1000, "iteration"), "1,000 iterations");
    }
}
