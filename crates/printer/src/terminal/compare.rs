//! `compare` (and `hunt --compare`, `demo`): two hunts, before and after a fix.

use leakhunt_findings::{Change, ComparedSuspect, Comparison, Verdict};

use super::signed_bytes;
use crate::{format_bytes, prose, Style};

pub fn comparison(c: &Comparison, style: Style) -> String {
    let after = verdict(c.verdict_after);
    let mut t = format!(
        "\n{}\n  growth per iteration ({}): {} → {}\n  verdict: {} → {}\n",
        style.bold("Before → after"),
        crate::setup::growth_figure(c.growth_figure),
        signed_bytes(c.growth_before),
        style.bold(&signed_bytes(c.growth_after)),
        verdict(c.verdict_before),
        match c.verdict_after {
            Verdict::Clean => style.green(after),
            Verdict::Leak => style.red(after),
        }
    );
    for s in &c.suspects {
        let (mark, word) = match s.change {
            Change::Gone => (style.green("✓"), "gone"),
            Change::Remaining => (style.red("✗"), "still there"),
            Change::New => (style.yellow("!"), "new"),
        };
        t.push_str(&format!(
            "  {mark} {word}: {} {} at {} (+{} per round before)\n",
            s.pattern.id(),
            s.class,
            place(s),
            format_bytes(s.bytes_per_step.max(0.0) as u64)
        ));
    }
    t
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Leak => "leak",
        Verdict::Clean => "clean",
    }
}

/// Where the suspect is: its file, else what holds it.
fn place(s: &ComparedSuspect) -> String {
    match (&s.location, &s.owner) {
        (Some(l), _) => l.file.clone(),
        (None, Some(o)) => prose::owner(o),
        (None, None) => "?".into(),
    }
}
