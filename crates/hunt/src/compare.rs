//! Before and after a fix: two hunt reports side by side. A suspect is the same in both when
//! it has the same pattern and class and is held at the same place (its file, or what holds
//! it).

use leakhunt_findings::{Change, ComparedSuspect, Comparison, HuntReport, SCHEMA_VERSION};

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
    Comparison {
        schema_version: SCHEMA_VERSION,
        growth_before: before.growth_bytes_per_iteration,
        growth_after: after.growth_bytes_per_iteration,
        verdict_before: before.leaks.verdict,
        verdict_after: after.leaks.verdict,
        suspects,
    }
}
