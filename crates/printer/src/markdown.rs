//! The Markdown report (GitHub-flavoured), for a pull request comment or a run's
//! `$GITHUB_STEP_SUMMARY`: the verdict, what ran, the heap at each snapshot, then each
//! suspect with its location, explanation and fix, its retainer path folded away in a
//! `<details>`. Text from the findings is escaped so a class name or a heap string cannot
//! turn into markup.

use std::fmt::Write;

use leakhunt_findings::{Change, ComparedSuspect, Comparison, HuntReport, LeakReport, Suspect};

use crate::bytes::format_bytes;
use crate::document::Findings;
use crate::spans::{spans, Span};
use crate::{html, path, prose, rules, setup};

/// Backslash before every character Markdown could read as markup, line breaks as spaces:
/// the text reads as written, in a paragraph or a table cell.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '!' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A code span that holds `text` as is: a fence longer than any run of backticks inside,
/// and in a table cell the `|` escaped (GitHub splits cells before reading code spans).
fn code(text: &str, in_table: bool) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let body = text.replace(['\n', '\r'], " ");
    let body = if in_table {
        body.replace('|', "\\|")
    } else {
        body
    };
    // A space keeps a backtick at either end from joining the fence.
    let pad = if body.starts_with('`') || body.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

/// Prose with its code names as code spans.
pub(crate) fn prose_md(text: &str) -> String {
    spans(text)
        .into_iter()
        .map(|s| match s {
            Span::Text(t) => escape(t),
            Span::Code(c) => code(c, false),
        })
        .collect()
}

/// The whole report.
pub fn render(f: &Findings) -> String {
    let leaks = f.leaks();
    let (word, rest) = setup::headline(leaks);
    let mut m = format!("## leakhunt — {} {}\n\n", escape(word), escape(&rest));
    match *f {
        Findings::Compared {
            before,
            after,
            comparison,
        } => {
            m.push_str(&before_after(before, after, comparison));
            m.push_str(&changes(&comparison.suspects));
        }
        Findings::Hunt(r) => m.push_str(&hunt_overview(r)),
        Findings::Leaks(r) => m.push_str(&ladder_overview(r)),
    }
    for (i, s) in leaks.suspects.iter().enumerate() {
        m.push_str(&suspect(i + 1, s, f));
    }
    for note in &leaks.notes {
        m.push_str(&format!("> Note: {}\n\n", escape(note)));
    }
    m
}

fn hunt_overview(r: &HuntReport) -> String {
    let mut m = format!("{}\n\n", prose_md(&setup::what_ran(r)));
    m.push_str(&heap_table(setup::hunt_heap_title(r), &setup::hunt_heap(r)));
    for (title, bytes) in setup::memory_rows(r) {
        let _ = write!(m, "| {} |", escape(title));
        for b in bytes {
            let _ = write!(m, " {} |", format_bytes(b));
        }
        m.push('\n');
    }
    let _ = write!(
        m,
        "\nGrowth: **{}** · Load: {}\n",
        escape(&setup::per_iteration(r.gated_growth().0)),
        escape(&setup::load(r))
    );
    let _ = writeln!(m, "\n{}", prose_md(&setup::memory_detail(r)));
    if let Some(note) = setup::native_note(r) {
        let _ = writeln!(m, "\n**{}**", prose_md(&note));
    }
    let errors = setup::load_errors(r);
    if !errors.is_empty() {
        m.push_str("\nFailed requests:\n\n");
        for e in &errors {
            let _ = writeln!(m, "- {}", escape(e));
        }
    }
    if let Some(g) = r.growth_gate {
        let _ = writeln!(
            m,
            "\nGrowth limit: {} per iteration, **{}**.",
            escape(&format_bytes(g.max_bytes_per_iteration)),
            if g.exceeded { "exceeded" } else { "kept" }
        );
    }
    m
}

fn ladder_overview(r: &LeakReport) -> String {
    let heap = setup::ladder_heap(r);
    heap_table("Reachable heap", &heap)
}

/// One row of sizes under one row of labels.
fn heap_table(title: &str, heap: &[(String, u64)]) -> String {
    let mut m = String::from("| |");
    for (label, _) in heap {
        let _ = write!(m, " {} |", escape(label));
    }
    m.push_str("\n|---|");
    m.push_str(&"---:|".repeat(heap.len()));
    let _ = write!(m, "\n| {} |", escape(title));
    for (_, bytes) in heap {
        let _ = write!(m, " {} |", format_bytes(*bytes));
    }
    m.push('\n');
    m
}

fn before_after(before: &HuntReport, after: &HuntReport, c: &Comparison) -> String {
    let heap = |r: &HuntReport| {
        r.heap_after_gc_bytes
            .iter()
            .map(|&b| format_bytes(b))
            .collect::<Vec<_>>()
            .join(" → ")
    };
    let mut m = String::from("| | Before | After |\n|---|---|---|\n");
    let _ = writeln!(
        m,
        "| Verdict | {} | **{}** |",
        setup::verdict(before.leaks.verdict),
        setup::verdict(after.leaks.verdict)
    );
    let _ = writeln!(
        m,
        "| Growth ({}) | {} | **{}** |",
        setup::growth_figure(c.growth_figure),
        escape(&setup::per_iteration(c.growth_before)),
        escape(&setup::per_iteration(c.growth_after))
    );
    let _ = writeln!(m, "| Heap after GC | {} | {} |", heap(before), heap(after));
    let _ = writeln!(
        m,
        "| Run | {} | {} |",
        prose_md(&setup::what_ran(before)).replace('|', "\\|"),
        prose_md(&setup::what_ran(after)).replace('|', "\\|")
    );
    m
}

fn changes(suspects: &[ComparedSuspect]) -> String {
    if suspects.is_empty() {
        return String::new();
    }
    let mut m =
        String::from("\n| | Pattern | Class | Where | Growth per step |\n|---|---|---|---|---:|\n");
    for c in suspects {
        let mark = match c.change {
            Change::Gone => "✓",
            Change::Remaining => "✗",
            Change::New => "!",
        };
        let _ = writeln!(
            m,
            "| {mark} {} | {} | {} | {} | +{} |",
            setup::change(c.change),
            code(c.pattern.id(), true),
            code(&c.class, true),
            c.location
                .as_ref()
                .map(|l| code(&path::position(l), true))
                .unwrap_or_default(),
            format_bytes(c.bytes_per_step.round().max(0.0) as u64)
        );
    }
    m
}

fn suspect(n: usize, s: &Suspect, f: &Findings) -> String {
    let mut m = format!(
        "\n### {n}. {}: {}",
        escape(rules::title(s.pattern)),
        code(&s.class, false)
    );
    if let Some(c) = f.change_of(s) {
        let _ = write!(m, " ({})", setup::change(c));
    }
    m.push_str("\n\n");
    let mut facts = Vec::new();
    if let Some(l) = &s.location {
        let function = l
            .function
            .as_deref()
            .map(|f| format!(" in {}", code(f, false)))
            .unwrap_or_default();
        facts.push(format!(
            "**at {}**{function}",
            code(&path::position(l), false)
        ));
    }
    if let Some(l) = &s.library_location {
        facts.push(format!(
            "in library {}",
            code(&crate::stacks::frame(l), false)
        ));
    }
    if let Some(o) = &s.owner {
        facts.push(format!("held by {}", code(&prose::owner(o), false)));
    }
    if !facts.is_empty() {
        // Two trailing spaces: a line break inside the paragraph.
        let _ = writeln!(m, "{}  ", facts.join(" · "));
    }
    let _ = write!(
        m,
        "{} · pattern {}\n\n{}\n\n**Fix:** {}\n",
        escape(&setup::growth(s)),
        code(s.pattern.id(), false),
        prose_md(&prose::explanation(s)),
        prose_md(&prose::fix(s))
    );
    if !s.captured.is_empty() {
        let names: Vec<String> = s
            .captured
            .iter()
            .map(|c| format!("{} ({})", code(&c.name, false), format_bytes(c.bytes)))
            .collect();
        let _ = writeln!(m, "\nCaptured variables: {}", names.join(", "));
    }
    let stacks = crate::stacks::blocks(s);
    if !stacks.is_empty() {
        let body: Vec<String> = stacks
            .iter()
            .map(|(amount, lines)| format!("{amount}:\n{}", lines.join("\n")))
            .collect();
        let body = body.join("\n\n");
        let fence =
            "`".repeat(3.max(body.split(|c| c != '`').map(str::len).max().unwrap_or(0) + 1));
        let _ = write!(
            m,
            "\n<details><summary>Where they were allocated</summary>\n\n{fence}text\n{body}\n{fence}\n\n</details>\n",
        );
    }
    // The path inside a fenced block: no escaping needed but a fence the text cannot close.
    let lines: Vec<String> = path::lines(&s.path)
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{}{}", if i == 0 { "  " } else { "← " }, path::line_text(l)))
        .collect();
    let body = lines.join("\n");
    let fence = "`".repeat(3.max(body.split(|c| c != '`').map(str::len).max().unwrap_or(0) + 1));
    let _ = write!(
        m,
        "\n<details><summary>Why {} is alive</summary>\n\n{fence}text\n{body}\n{fence}\n\n</details>\n",
        html::escape(&s.class)
    );
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_names_is_escaped() {
        assert_eq!(escape("a|b *c* <d>"), r"a\|b \*c\* \<d\>");
        assert_eq!(code("a`b", false), "``a`b``");
        assert_eq!(code("`x", false), "`` `x ``");
        assert_eq!(code("a|b", true), r"`a\|b`");
    }
}
