//! `leaks`: the ladder's heap sizes, the verdict and each suspect with its place, path,
//! explanation and fix.

use leakhunt_findings::{LeakReport, Suspect, Verdict};

use super::path_block;
use crate::path::position;
use crate::{format_bytes, prose, Style};

pub fn leaks(r: &LeakReport, style: Style) -> String {
    let sizes: Vec<String> = r
        .snapshots
        .iter()
        .map(|s| format_bytes(s.reachable_size))
        .collect();
    let mut t = format!(
        "Heap over {} snapshots: {}\n",
        r.snapshots.len(),
        sizes.join(" → ")
    );
    t.push_str(&verdict_and_suspects(r, style));
    t
}

/// The verdict, then the suspects (what `hunt` shows below its own heap sizes).
pub(super) fn verdict_and_suspects(r: &LeakReport, style: Style) -> String {
    let (word, rest) = crate::setup::headline(r);
    let word = match r.verdict {
        Verdict::Clean => style.green(&style.bold(word)),
        Verdict::Leak => style.red(&style.bold(word)),
    };
    let mut t = format!("\n{word} {rest}\n");
    for (i, s) in r.suspects.iter().enumerate() {
        t.push_str(&suspect(i + 1, s, style));
    }
    for note in &r.notes {
        t.push_str(&format!("\nnote: {note}"));
    }
    if !r.notes.is_empty() {
        t.push('\n');
    }
    t
}

fn suspect(number: usize, s: &Suspect, style: Style) -> String {
    let mut t = format!(
        "\n{} {}  {}  {}\n",
        style.bold(&format!("#{number}")),
        style.yellow(s.pattern.id()),
        style.bold(&s.class),
        crate::setup::growth(s)
    );
    if let Some(l) = &s.location {
        let function = l
            .function
            .as_deref()
            .map(|f| format!(" in {f}"))
            .unwrap_or_default();
        t.push_str(&format!("   at {}{function}\n", style.cyan(&position(l))));
    }
    if let Some(l) = &s.library_location {
        t.push_str(&format!("   in library {}\n", crate::stacks::frame(l)));
    }
    if let Some(line) = crate::stacks::top_line(s) {
        t.push_str(&format!("   allocated by {line}\n"));
    }
    if let Some(o) = &s.owner {
        t.push_str(&format!("   held by {}\n", prose::owner(o)));
    }
    t.push_str("   path:\n");
    t.push_str(&path_block(&s.path, "     "));
    t.push_str(&format!("   {}\n", prose::explanation(s)));
    t.push_str(&format!("   {} {}\n", style.bold("Fix:"), prose::fix(s)));
    t
}
