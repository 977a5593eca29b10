//! The HTML report: one self-contained file to open, attach to a ticket or keep as a CI
//! artifact. Nothing is fetched (no scripts, fonts, images or styles from elsewhere; the
//! charts are inline SVG) and nothing needs JavaScript: there is none. Every text from the
//! findings (class names, file paths, source lines, strings from the heap) is escaped.
//!
//! Layout: the verdict; what ran and the heap chart; for a comparison, before and after side
//! by side and what became of each suspect; then each suspect with its growth chart,
//! explanation, fix, captured variables, the source lines around its location (when the file
//! is on this machine) and its retainer path.

use std::fmt::Write;
use std::path::Path;

use leakhunt_findings::{ComparedSuspect, HuntReport, LeakReport, Suspect, Verdict};

use crate::bytes::format_bytes;
use crate::document::Findings;
use crate::path::{self, PathLine};
use crate::spans::{spans, Span};
use crate::{prose, rules, setup, sources, svg};

/// `&`, `<`, `>`, `"` and `'` as character references: safe in text and in quoted
/// attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Prose with its code names as `<code>`.
fn prose_html(text: &str) -> String {
    spans(text)
        .into_iter()
        .map(|s| match s {
            Span::Text(t) => escape(t),
            Span::Code(c) => format!("<code>{}</code>", escape(c)),
        })
        .collect()
}

const STYLE: &str = r#"
:root { --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --panel: #f6f8fa; --line: #d1d9e0;
  --leak: #cf222e; --clean: #1a7f37; --accent: #0969da; --mark: #fff8c5; --new: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 16px 0 6px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 13px; }
code { background: var(--panel); padding: 1px 4px; border-radius: 4px; }
.verdict { font-size: 18px; margin: 4px 0 16px; }
.verdict strong { color: #fff; padding: 2px 10px; border-radius: 12px; margin-right: 6px; }
.verdict.leak strong { background: var(--leak); }
.verdict.clean strong { background: var(--clean); }
.muted, .note { color: var(--muted); }
table { border-collapse: collapse; margin: 8px 0; }
th, td { text-align: left; padding: 4px 12px 4px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num, th.num { text-align: right; }
.chart { width: 100%; height: auto; display: block; max-width: 640px; }
.chart .axis { stroke: var(--line); stroke-width: 1; }
.chart .line { fill: none; stroke: var(--accent); stroke-width: 2.5; }
.chart .area { fill: var(--accent); fill-opacity: 0.12; stroke: none; }
.chart .point { fill: var(--bg); stroke: var(--accent); stroke-width: 2; }
.chart text { font-size: 12px; fill: var(--muted); }
.suspect .chart .line, .suspect .chart .point { stroke: var(--leak); }
.suspect .chart .area { fill: var(--leak); }
.suspect { border: 1px solid var(--line); border-radius: 8px; padding: 4px 20px 16px; margin: 16px 0; }
.suspect h3 .pattern { color: var(--leak); }
.facts { display: grid; grid-template-columns: minmax(0, 1fr) 280px; gap: 16px; align-items: start; }
.where { font-weight: 600; }
pre.source { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 0; overflow-x: auto; margin: 8px 0; }
pre.source span.l { display: block; padding: 0 12px; white-space: pre; }
pre.source span.l.marked { background: var(--mark); box-shadow: inset 3px 0 var(--leak); }
pre.source span.n { display: inline-block; min-width: 3em; color: var(--muted); user-select: none; }
ol.path { list-style: none; padding: 0; margin: 8px 0; }
ol.path li { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 13px; padding: 1px 0; }
ol.path li + li::before { content: "← "; color: var(--muted); }
ol.path li.folded, ol.path li.roots { color: var(--muted); }
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; }
.side { border: 1px solid var(--line); border-radius: 8px; padding: 4px 16px 12px; }
.change-gone { color: var(--clean); }
.change-remaining { color: var(--leak); }
.change-new { color: var(--new); }
footer { margin-top: 32px; color: var(--muted); font-size: 13px; }
@media (max-width: 720px) { .facts, .sides { grid-template-columns: 1fr; } }
"#;

/// The whole page. Source excerpts are read from the files the locations name, relative to
/// `cwd` (the directory the analysis ran in); a file that is not there is skipped.
pub fn render(f: &Findings, cwd: &Path) -> String {
    let leaks = f.leaks();
    let (word, rest) = setup::headline(leaks);
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>leakhunt: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
         <h1>leakhunt report</h1>\n",
        escape(&format!("{word} {rest}"))
    );
    match *f {
        Findings::Compared {
            before,
            after,
            comparison,
        } => {
            let _ = write!(h, "{}", verdict_line(leaks));
            let _ = writeln!(
                h,
                "<p class=\"muted\">Before and after a fix: {}.</p>",
                escape(&format!(
                    "growth of {} {} → {}",
                    setup::growth_figure(comparison.growth_figure),
                    setup::per_iteration(comparison.growth_before),
                    setup::per_iteration(comparison.growth_after)
                ))
            );
            h.push_str("<div class=\"sides\">\n");
            // One scale for both heap charts, so the fix shows as a flatter line.
            let scale: Vec<u64> = [before, after]
                .iter()
                .flat_map(|r| setup::hunt_heap(r).into_iter().map(|(_, b)| b))
                .collect();
            for (title, r) in [("Before", before), ("After", after)] {
                let _ = write!(
                    h,
                    "<section class=\"side\">\n<h2>{title}</h2>\n{}</section>\n",
                    hunt_overview(r, &scale)
                );
            }
            h.push_str("</div>\n");
            h.push_str(&changes(&comparison.suspects));
        }
        Findings::Hunt(r) => {
            h.push_str(&verdict_line(leaks));
            let scale: Vec<u64> = setup::hunt_heap(r).into_iter().map(|(_, b)| b).collect();
            h.push_str(&hunt_overview(r, &scale));
        }
        Findings::Leaks(r) => {
            h.push_str(&verdict_line(leaks));
            h.push_str(&ladder_overview(r));
        }
    }
    if !leaks.suspects.is_empty() {
        h.push_str("<h2>Suspects</h2>\n");
        let labels = setup::snapshot_labels(f);
        for (i, s) in leaks.suspects.iter().enumerate() {
            h.push_str(&suspect(i + 1, s, &labels, f, cwd));
        }
    }
    h.push_str(
        "<footer>Made by leakhunt. Sizes in decimal units (1 kB = 1000 bytes), as Chrome \
         DevTools shows them.</footer>\n</main>\n</body>\n</html>\n",
    );
    h
}

fn verdict_line(r: &LeakReport) -> String {
    let (word, rest) = setup::headline(r);
    let class = match r.verdict {
        Verdict::Leak => "leak",
        Verdict::Clean => "clean",
    };
    format!(
        "<p class=\"verdict {class}\"><strong>{}</strong>{}</p>\n",
        escape(word),
        escape(&rest)
    )
}

/// What ran, the load, and the heap after GC as a chart (on a scale that fits `scale`) and
/// a table.
fn hunt_overview(r: &HuntReport, scale: &[u64]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<p>{}</p>\n<p>Load: {}. Growth: <strong>{}</strong>.</p>\n",
        prose_html(&setup::what_ran(r)),
        escape(&setup::load(r)),
        escape(&setup::per_iteration(r.gated_growth().0))
    );
    let _ = writeln!(h, "<p>{}</p>", prose_html(&setup::memory_detail(r)));
    if let Some(note) = setup::native_note(r) {
        let _ = writeln!(
            h,
            "<p class=\"native\"><strong>{}</strong></p>",
            prose_html(&note)
        );
    }
    let errors = setup::load_errors(r);
    if !errors.is_empty() {
        h.push_str("<p>Failed requests:</p>\n<ul class=\"errors\">\n");
        for e in &errors {
            let _ = writeln!(h, "<li>{}</li>", escape(e));
        }
        h.push_str("</ul>\n");
    }
    if let Some(g) = r.growth_gate {
        let _ = writeln!(
            h,
            "<p>Growth limit: {} per iteration, {}.</p>",
            escape(&format_bytes(g.max_bytes_per_iteration)),
            if g.exceeded { "exceeded" } else { "kept" }
        );
    }
    let heap = setup::hunt_heap(r);
    h.push_str(&heap_section(setup::hunt_heap_title(r), &heap, scale));
    h
}

fn ladder_overview(r: &LeakReport) -> String {
    let heap = setup::ladder_heap(r);
    heap_section("Reachable heap", &heap, &[])
}

fn heap_section(title: &str, heap: &[(String, u64)], scale: &[u64]) -> String {
    let (labels, values): (Vec<String>, Vec<u64>) = heap.iter().cloned().unzip();
    let mut h = format!(
        "<h3>{}</h3>\n{}\n<table class=\"heap\">\n<tr>",
        escape(title),
        svg::bytes_chart_scaled(title, &labels, &values, svg::WIDE, scale)
    );
    for l in &labels {
        let _ = write!(h, "<th class=\"num\">{}</th>", escape(l));
    }
    h.push_str("</tr>\n<tr>");
    for v in &values {
        let _ = write!(h, "<td class=\"num\">{}</td>", escape(&format_bytes(*v)));
    }
    h.push_str("</tr>\n</table>\n");
    h
}

/// What became of each suspect of the earlier hunt, and which are new.
fn changes(suspects: &[ComparedSuspect]) -> String {
    if suspects.is_empty() {
        return "<p>No suspect before or after.</p>\n".into();
    }
    let mut h = String::from(
        "<h2>Suspects before → after</h2>\n<table class=\"changes\">\n<tr><th></th><th>Pattern</th>\
         <th>Class</th><th>Where</th><th class=\"num\">Growth per step</th></tr>\n",
    );
    for c in suspects {
        let word = setup::change(c.change);
        let _ = writeln!(
            h,
            "<tr class=\"change-{}\"><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"mono\">{}</td><td class=\"num\">+{}</td></tr>",
            match c.change {
                leakhunt_findings::Change::Gone => "gone",
                leakhunt_findings::Change::Remaining => "remaining",
                leakhunt_findings::Change::New => "new",
            },
            escape(word),
            escape(c.pattern.id()),
            escape(&c.class),
            c.location
                .as_ref()
                .map(|l| escape(&path::position(l)))
                .unwrap_or_default(),
            escape(&format_bytes(c.bytes_per_step.round().max(0.0) as u64))
        );
    }
    h.push_str("</table>\n");
    h
}

fn suspect(n: usize, s: &Suspect, labels: &[String], f: &Findings, cwd: &Path) -> String {
    let mut h = format!(
        "<article class=\"suspect\" id=\"suspect-{n}\">\n<h3>#{n} <span class=\"pattern\">{}</span> \
         <code>{}</code>",
        escape(rules::title(s.pattern)),
        escape(&s.class)
    );
    if let Some(c) = f.change_of(s) {
        let _ = write!(
            h,
            " <span class=\"muted\">({})</span>",
            escape(setup::change(c))
        );
    }
    h.push_str("</h3>\n<div class=\"facts\">\n<div>\n");
    if let Some(l) = &s.location {
        let function = l
            .function
            .as_deref()
            .map(|f| format!(" in <code>{}</code>", escape(f)))
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<p class=\"where\">at <span class=\"mono\">{}</span>{function}</p>",
            escape(&path::position(l))
        );
    }
    if let Some(l) = &s.library_location {
        let _ = writeln!(
            h,
            "<p>in library <span class=\"mono\">{}</span></p>",
            escape(&crate::stacks::frame(l))
        );
    }
    if let Some(o) = &s.owner {
        let _ = writeln!(
            h,
            "<p>held by <code>{}</code></p>",
            escape(&prose::owner(o))
        );
    }
    let _ = write!(
        h,
        "<p class=\"muted\">{} · pattern <code>{}</code></p>\n<p>{}</p>\n<p><strong>Fix:</strong> {}</p>\n",
        escape(&setup::growth(s)),
        escape(s.pattern.id()),
        prose_html(&prose::explanation(s)),
        prose_html(&prose::fix(s))
    );
    h.push_str("</div>\n<div>\n");
    let n_points = s.bytes_by_snapshot.len();
    let chart_labels: Vec<String> = (0..n_points)
        .map(|i| {
            labels
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("#{}", i + 1))
        })
        .collect();
    h.push_str(&svg::bytes_chart(
        &format!("Retained by {}", s.class),
        &chart_labels,
        &s.bytes_by_snapshot,
        svg::SMALL,
    ));
    h.push_str("\n</div>\n</div>\n");
    let stacks = crate::stacks::blocks(s);
    if !stacks.is_empty() {
        h.push_str("<details><summary>Where they were allocated</summary>\n");
        for (amount, lines) in &stacks {
            let _ = writeln!(
                h,
                "<p class=\"muted\">{}</p>\n<pre>{}</pre>",
                escape(amount),
                escape(&lines.join("\n"))
            );
        }
        h.push_str("</details>\n");
    }
    if let Some(e) = s.location.as_ref().and_then(|l| sources::excerpt(cwd, l)) {
        let file = s.location.as_ref().map_or("", |l| l.file.as_str());
        let _ = write!(
            h,
            "<h4 class=\"mono\">{}</h4>\n<pre class=\"source\" aria-label=\"{}\">",
            escape(file),
            escape(&format!("{file} around line {}", e.marked))
        );
        for (i, line) in e.lines.iter().enumerate() {
            let number = e.first + i as u32;
            let marked = if number == e.marked { " marked" } else { "" };
            let _ = write!(
                h,
                "<span class=\"l{marked}\"><span class=\"n\">{number}</span>{}</span>",
                escape(line)
            );
        }
        h.push_str("</pre>\n");
    }
    if !s.captured.is_empty() {
        h.push_str(
            "<h4>Captured variables</h4>\n<table class=\"captured\">\n<tr><th>Variable</th>\
             <th class=\"num\">Retains</th></tr>\n",
        );
        for c in &s.captured {
            let _ = writeln!(
                h,
                "<tr><td><code>{}</code></td><td class=\"num\">{}</td></tr>",
                escape(&c.name),
                escape(&format_bytes(c.bytes))
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str("<h4>Why it is alive</h4>\n<ol class=\"path\">\n");
    for line in path::lines(&s.path) {
        let class = match line {
            PathLine::Folded { .. } => " class=\"folded\"",
            PathLine::Roots => " class=\"roots\"",
            _ => "",
        };
        let _ = writeln!(h, "<li{class}>{}</li>", escape(&path::line_text(&line)));
    }
    h.push_str("</ol>\n</article>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<img src="x" onerror='y'>&"#),
            "&lt;img src=&quot;x&quot; onerror=&#39;y&#39;&gt;&amp;"
        );
        assert_eq!(
            prose_html("the Map `a<b>` grows"),
            "the Map <code>a&lt;b&gt;</code> grows"
        );
    }
}
