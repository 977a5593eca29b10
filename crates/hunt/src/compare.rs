//! Before and after a fix: two hunt reports side by side. A suspect is the same in both when
//! it has the same pattern and class and is held at the same place (file, or collection).

use serde::Serialize;

use crate::report::HuntReport;

/// A suspect as compared: enough to recognise it and to say what it was.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuspectSummary {
    pub pattern: String,
    pub class: String,
    pub place: String,
    pub bytes_per_step: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Gone,
    Remaining,
    New,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportComparison {
    pub growth_before: f64,
    pub growth_after: f64,
    pub verdict_before: String,
    pub verdict_after: String,
    pub suspects: Vec<(Change, SuspectSummary)>,
}

fn summaries(r: &HuntReport) -> Vec<SuspectSummary> {
    r.leaks
        .suspects
        .iter()
        .map(|s| SuspectSummary {
            pattern: s.pattern.name().to_string(),
            class: s.class.clone(),
            place: s
                .location
                .as_ref()
                .map(|l| l.file.clone())
                .or_else(|| s.collection.clone())
                .unwrap_or_default(),
            bytes_per_step: s.bytes_per_step,
        })
        .collect()
}

fn same(a: &SuspectSummary, b: &SuspectSummary) -> bool {
    a.pattern == b.pattern && a.class == b.class && a.place == b.place
}

pub fn compare(before: &HuntReport, after: &HuntReport) -> ReportComparison {
    let (b, a) = (summaries(before), summaries(after));
    let mut suspects = Vec::new();
    for s in &b {
        let change = if a.iter().any(|x| same(x, s)) {
            Change::Remaining
        } else {
            Change::Gone
        };
        suspects.push((change, s.clone()));
    }
    for s in &a {
        if !b.iter().any(|x| same(x, s)) {
            suspects.push((Change::New, s.clone()));
        }
    }
    let verdict = |r: &HuntReport| {
        serde_json::to_value(r.leaks.verdict)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    ReportComparison {
        growth_before: before.growth_bytes_per_iteration,
        growth_after: after.growth_bytes_per_iteration,
        verdict_before: verdict(before),
        verdict_after: verdict(after),
        suspects,
    }
}
