//! Retainer paths as a person reads them, the same in every format: the object, then one
//! reference a line (`.listeners in EventEmitter @63687`), then `(GC roots)`; runs of
//! identical hops (Node keeps timers and EventTarget listeners in linked lists, hundreds of
//! hops long) fold into one line. Above the program's last function on the path, the
//! runtime's own chain (the server's `_events`, `native_bind`, Timeout lists, `timerListMap`,
//! Node's internal scopes) folds into one line too: the program's objects come first.

use leakhunt_findings::{EdgeKind, HeapObject, PathStep, RetainerPath, SourceLocation};

/// Longest string preview shown for string objects and property names.
const PREVIEW: usize = 40;

/// The object's class plus what distinguishes it: `(closure) handleMessage`, `(string)
/// "GET /users/7"`, `Planted`.
pub fn object_label(o: &HeapObject) -> String {
    match (o.class.as_str(), o.name.as_deref()) {
        ("(closure)", Some(n)) if !n.is_empty() => format!("(closure) {n}"),
        ("(closure)", _) => "(closure) (anonymous)".to_string(),
        // The GC roots' sections: `(Global handles)`, `(Stack roots)`.
        ("(synthetic)", Some(n)) if !n.is_empty() => n.to_string(),
        (c, Some(n)) if is_string_class(c) => format!("{c} {}", quote_preview(n)),
        (c, Some(n)) if !n.is_empty() && n != c => format!("{c} {n}"),
        (c, _) => c.to_string(),
    }
}

fn is_string_class(class: &str) -> bool {
    matches!(
        class,
        "(string)" | "(concatenated string)" | "(sliced string)"
    )
}

/// The reference as it would be written in code where possible: `.name`, `[3]`, `name
/// (closure variable)`; internal slots are marked, as JavaScript cannot see them.
pub fn edge_label(step: &PathStep) -> String {
    let name = step.edge.as_str();
    match step.edge_type {
        EdgeKind::Element => format!("[{name}]"),
        EdgeKind::Hidden => format!("[{name}] (hidden)"),
        EdgeKind::Property if is_identifier(name) => format!(".{name}"),
        EdgeKind::Property => format!("[{}]", quote_preview(name)),
        EdgeKind::Context => format!("{name} (closure variable)"),
        EdgeKind::Internal => format!("{name} (internal)"),
        EdgeKind::Weak => format!("{name} (weak)"),
        EdgeKind::Shortcut | EdgeKind::Unknown => name.to_string(),
    }
}

/// `file:line:column`.
pub fn position(l: &SourceLocation) -> String {
    format!("{}:{}:{}", l.file, l.line, l.column)
}

/// One line of a displayed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathLine<'a> {
    /// The object the path leads to.
    Object(&'a HeapObject),
    /// One reference.
    Step(&'a PathStep),
    /// `count` identical hops (same edge kind and holder class), the last of them `last`.
    Folded { count: usize, last: &'a PathStep },
    /// `count` references inside the runtime, named by what stands out among them.
    Runtime { count: usize, names: Vec<&'a str> },
    /// The end of every path.
    Roots,
}

/// The path's lines, with runs of more than two identical hops folded.
pub fn lines(path: &RetainerPath) -> Vec<PathLine<'_>> {
    let mut out = vec![PathLine::Object(&path.object)];
    let steps = &path.steps;
    // From the step above the program's last function to the one the roots hold (kept: it
    // says where the chain starts).
    let runtime = steps
        .iter()
        .rposition(|s| s.location.as_ref().is_some_and(|l| !l.is_runtime()))
        .map(|program| program + 1..steps.len().saturating_sub(1))
        .filter(|r| r.len() >= 2);
    let program_end = runtime.as_ref().map_or(steps.len(), |r| r.start);
    fold_repeats(&steps[..program_end], &mut out);
    if let Some(r) = runtime {
        out.push(PathLine::Runtime {
            count: r.len(),
            names: runtime_names(&steps[r.clone()]),
        });
        fold_repeats(&steps[r.end..], &mut out);
    }
    out.push(PathLine::Roots);
    out
}

/// What stands out in the runtime's part of a path: the classes with a place in the
/// runtime's code (`Server`, `Timeout`), its scopes' variables (`timerListMap`), bound
/// functions; each once, at most five.
fn runtime_names(steps: &[PathStep]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for s in steps {
        let name = if s.location.is_some() {
            // A function by its name, an object by its class.
            match (s.holder_class.as_str(), s.holder_name.as_deref()) {
                ("(closure)", Some(n)) => Some(n),
                ("(closure)", None) => None,
                (class, _) => Some(class),
            }
        } else if s.edge_type == EdgeKind::Context {
            Some(s.edge.as_str())
        } else {
            s.holder_name.as_deref().filter(|n| *n == "native_bind")
        };
        if let Some(n) = name.filter(|n| !n.is_empty() && !names.contains(n)) {
            names.push(n);
        }
    }
    names.truncate(5);
    names
}

/// `steps` as lines, with runs of more than two identical hops folded.
fn fold_repeats<'a>(steps: &'a [PathStep], out: &mut Vec<PathLine<'a>>) {
    let mut i = 0;
    while i < steps.len() {
        let kind = hop_kind(&steps[i]);
        let mut run = 1;
        while i + run < steps.len() && hop_kind(&steps[i + run]) == kind {
            run += 1;
        }
        if run > 2 {
            out.push(PathLine::Folded {
                count: run,
                last: &steps[i + run - 1],
            });
        } else {
            out.extend(steps[i..i + run].iter().map(PathLine::Step));
        }
        i += run;
    }
}

/// `  (file:line:column)` after a label, when the place is known.
fn at(location: &Option<SourceLocation>) -> String {
    location
        .as_ref()
        .map(|l| format!("  ({})", position(l)))
        .unwrap_or_default()
}

/// The text of one line, without color: `.listeners in EventEmitter @63687  (node:events:219:22)`.
pub fn line_text(line: &PathLine) -> String {
    match line {
        // The object's own place matters most for a closure: where it is created is often
        // where the bug is (a handler registered once per request).
        PathLine::Object(o) => format!("{} @{}{}", object_label(o), o.id, at(&o.location)),
        PathLine::Step(s) => format!(
            "{} in {} @{}{}",
            edge_label(s),
            object_label(&s.holder()),
            s.holder_id,
            at(&s.location)
        ),
        PathLine::Folded { count, last } => {
            format!(
                "… {count} × {} in {} …",
                hop_kind(last).0,
                last.holder_class
            )
        }
        PathLine::Runtime { count, names } => {
            let names = if names.is_empty() {
                String::new()
            } else {
                format!(" ({})", names.join(", "))
            };
            format!("… {count} references inside the runtime{names} …")
        }
        PathLine::Roots => "(GC roots)".to_string(),
    }
}

/// The hop without its index, so `[3]` and `[4]` compare equal.
fn hop_kind(s: &PathStep) -> (String, &str) {
    let label = match s.edge_type {
        EdgeKind::Element | EdgeKind::Hidden => "[…]".to_string(),
        _ => edge_label(s),
    };
    (label, s.holder_class.as_str())
}

/// `"text…"`, cut to a preview, with quotes and control characters escaped.
fn quote_preview(s: &str) -> String {
    let mut out = String::from("\"");
    for (i, c) in s.chars().enumerate() {
        if i == PREVIEW {
            out.push('…');
            break;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(edge: &str, kind: EdgeKind, class: &str, name: Option<&str>, file: &str) -> PathStep {
        PathStep {
            edge: edge.into(),
            edge_type: kind,
            holder_id: 1,
            holder_class: class.into(),
            holder_name: name.map(Into::into),
            location: (!file.is_empty()).then(|| SourceLocation {
                file: file.into(),
                line: 1,
                column: 1,
                function: None,
            }),
        }
    }

    #[test]
    fn the_runtimes_chain_above_the_program_folds_into_one_line() {
        use EdgeKind::*;
        let path = RetainerPath {
            object: HeapObject {
                id: 7,
                class: "Object".into(),
                name: None,
                location: None,
            },
            steps: vec![
                step("12", Element, "Array", None, ""),
                step("kept", Context, "system / Context", None, ""),
                step("context", Internal, "(closure)", Some("handle"), "app.js"),
                step("request", Property, "Object", None, ""),
                step("_events", Property, "Server", None, "node:_http_server"),
                step("bound_this", Internal, "(closure)", Some("native_bind"), ""),
                step(
                    "_onTimeout",
                    Property,
                    "Timeout",
                    None,
                    "node:internal/timers",
                ),
                step("timerListMap", Context, "system / Context", None, ""),
                step("setTimeout", Property, "global", None, ""),
            ],
        };
        let text: Vec<String> = lines(&path).iter().map(line_text).collect();
        assert_eq!(text.len(), 7, "{text:#?}");
        assert!(text[3].starts_with("context (internal) in (closure) handle"));
        assert_eq!(
            text[4],
            "… 5 references inside the runtime (Server, native_bind, Timeout, timerListMap) …"
        );
        assert!(text[5].starts_with(".setTimeout in global"));
    }
}
