//! `hunt`: what ran, how the heap grew and what the load did, then the diagnosis.

use leakhunt_findings::HuntReport;

use super::leaks::verdict_and_suspects;
use super::signed_bytes;
use crate::{format_bytes, format_count, Style};

pub fn hunt(r: &HuntReport, style: Style) -> String {
    let what = r.command.as_deref().unwrap_or("the attached service");
    let mut t = format!(
        "Hunted {} ({}) with {}: {}\n",
        style.bold(what),
        r.runtime,
        r.scenario.source,
        describe_rounds(r)
    );
    let heaps: Vec<String> = r
        .heap_after_gc_bytes
        .iter()
        .map(|&b| format_bytes(b))
        .collect();
    t.push_str(&format!(
        "Heap after GC: {}  ({})\n",
        heaps.join(" → "),
        style.bold(&format!(
            "{} per iteration",
            signed_bytes(r.growth_bytes_per_iteration)
        ))
    ));
    let requests: u64 = r.load.iter().map(|l| l.requests).sum();
    let failed: u64 = r.load.iter().map(|l| l.failed).sum();
    let seconds: f64 = r.load.iter().map(|l| l.seconds).sum();
    t.push_str(&format!(
        "Load: {} requests in {:.1} s ({}/s), {} failed\n",
        format_count(requests),
        seconds,
        format_count((requests as f64 / seconds.max(1e-9)) as u64),
        format_count(failed)
    ));
    for l in &r.load {
        for (e, n) in &l.errors {
            t.push_str(&format!("  {} × {e}\n", format_count(*n)));
        }
    }
    if let Some(dir) = &r.out_dir {
        t.push_str(&format!("Snapshots and report.json in {dir}\n"));
    }
    // The heap sizes are above, after GC: the diagnosis's own ladder line would repeat them.
    t.push_str(&verdict_and_suspects(&r.leaks, style));
    t
}

/// `a warm-up of 100 iterations, then 2 rounds of 1,000 iterations × 3 requests`, or
/// `a warm-up and 2 rounds of …` when the warm-up is a full round. `--rounds` counts the
/// rounds after the warm-up, as this does.
fn describe_rounds(r: &HuntReport) -> String {
    let per_round = r.scenario.iterations_per_round;
    let rounds = if r.rounds > 0 {
        r.rounds
    } else {
        r.heap_after_gc_bytes.len().saturating_sub(1)
    };
    let warmup = r.load.first().map_or(per_round, |l| l.iterations);
    let plural = |n: u64, word: &str| {
        format!(
            "{} {word}{}",
            format_count(n),
            if n == 1 { "" } else { "s" }
        )
    };
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
