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
        crate::setup::rounds(r)
    );
    let heaps: Vec<String> = crate::setup::hunt_heap(r)
        .into_iter()
        .map(|(_, b)| format_bytes(b))
        .collect();
    t.push_str(&format!(
        "{}: {}  ({})\n",
        crate::setup::hunt_heap_title(r),
        heaps.join(" → "),
        style.bold(&format!(
            "{} per iteration",
            signed_bytes(r.gated_growth().0)
        ))
    ));
    t.push_str(&format!(
        "  {}\n",
        crate::spans::plain(&crate::setup::memory_detail(r))
    ));
    if let Some(note) = crate::setup::native_note(r) {
        t.push_str(&format!("{}\n", crate::spans::plain(&note)));
    }
    t.push_str(&format!("Load: {}\n", crate::setup::load(r)));
    for l in &r.load {
        for (e, n) in &l.errors {
            t.push_str(&format!("  {} × {e}\n", format_count(*n)));
        }
    }
    // Once per step, from the round that timed out most: every round replays the same steps.
    let mut timeouts: Vec<&leakhunt_findings::StepTimeouts> = Vec::new();
    for s in r.load.iter().flat_map(|l| &l.timeouts) {
        match timeouts.iter_mut().find(|t| t.step == s.step) {
            Some(t) if t.timed_out < s.timed_out => *t = s,
            Some(_) => {}
            None => timeouts.push(s),
        }
    }
    for s in timeouts {
        t.push_str(&format!("  {}\n", s.describe()));
    }
    if let Some(dir) = &r.out_dir {
        t.push_str(&format!("Snapshots and report.json in {dir}\n"));
    }
    // The heap sizes are above, after GC: the diagnosis's own ladder line would repeat them.
    t.push_str(&verdict_and_suspects(&r.leaks, style));
    t
}
