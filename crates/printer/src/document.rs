//! What one report file is about: the findings of one command. Every file format (Markdown,
//! HTML, SARIF, GitHub annotations) takes one of these.

use leakhunt_findings::{Change, Comparison, HuntReport, LeakReport, Suspect};

#[derive(Debug, Clone, Copy)]
pub enum Findings<'a> {
    /// `leaks`: the diagnosis of a ladder of snapshots.
    Leaks(&'a LeakReport),
    /// `hunt`: the diagnosis plus what the heap and the load did.
    Hunt(&'a HuntReport),
    /// `compare`, or `hunt --compare`: two hunts, before and after a fix.
    Compared {
        before: &'a HuntReport,
        after: &'a HuntReport,
        comparison: &'a Comparison,
    },
}

impl<'a> Findings<'a> {
    /// The diagnosis the report is about: the later one of a comparison.
    pub fn leaks(&self) -> &'a LeakReport {
        match *self {
            Findings::Leaks(r) => r,
            Findings::Hunt(h) => &h.leaks,
            Findings::Compared { after, .. } => &after.leaks,
        }
    }

    /// The hunt the report is about, if it is one (the later of a comparison).
    pub fn hunt(&self) -> Option<&'a HuntReport> {
        match *self {
            Findings::Leaks(_) => None,
            Findings::Hunt(h) => Some(h),
            Findings::Compared { after, .. } => Some(after),
        }
    }

    /// For a comparison: whether `s`, a suspect of the later hunt, was there before.
    pub fn change_of(&self, s: &Suspect) -> Option<Change> {
        let Findings::Compared { comparison, .. } = self else {
            return None;
        };
        comparison
            .suspects
            .iter()
            .filter(|c| c.change != Change::Gone)
            .find(|c| c.pattern == s.pattern && c.class == s.class && c.location == s.location)
            .map(|c| c.change)
    }
}
