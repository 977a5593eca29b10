//! Allocation stacks as every format shows them: the top stack on one line in the terminal,
//! up to three stacks (a few frames each) in Markdown and HTML.

use leakhunt_findings::{AllocationStack, SourceLocation, Suspect};

use crate::{format_bytes, format_count};

/// Frames shown per stack: the allocating function and a few callers, enough to reach the
/// app's own code; the rest is the runtime's.
const SHOWN_FRAMES: usize = 5;

/// `name file:line:column`, or the position alone for an anonymous function.
pub fn frame(l: &SourceLocation) -> String {
    let at = crate::path::position(l);
    match &l.function {
        Some(f) => format!("{f} {at}"),
        None => at,
    }
}

/// The frames worth showing: up to [`SHOWN_FRAMES`], stopping after the user's first frame's
/// caller when the runtime follows.
fn shown(s: &AllocationStack) -> (Vec<String>, bool) {
    let mut out: Vec<String> = s.frames.iter().take(SHOWN_FRAMES).map(frame).collect();
    // Trailing runtime frames (the event loop, the HTTP parser) say nothing.
    let mut kept = s.frames.len().min(SHOWN_FRAMES);
    while kept > 1 && s.frames[kept - 1].is_runtime() {
        kept -= 1;
    }
    out.truncate(kept);
    (out, s.frames.len() > kept)
}

/// `600 objects (1.2 MB)`.
pub fn amount(s: &AllocationStack) -> String {
    let unit = if s.count == 1 { "object" } else { "objects" };
    format!(
        "{} {unit}, {}",
        format_count(s.count),
        format_bytes(s.bytes)
    )
}

/// The top stack on one line: `a file:1:2 ← b file:3:4 ← … (600 objects, 1.2 MB)`.
pub fn top_line(s: &Suspect) -> Option<String> {
    s.allocation_stacks.first().map(line)
}

fn line(stack: &AllocationStack) -> String {
    let (frames, more) = shown(stack);
    let more = if more { " ← …" } else { "" };
    format!("{}{more} ({})", frames.join(" ← "), amount(stack))
}

/// Each stack: its amount, then its frames, one a line (`← ` before callers).
pub fn blocks(s: &Suspect) -> Vec<(String, Vec<String>)> {
    s.allocation_stacks
        .iter()
        .map(|st| {
            let (frames, more) = shown(st);
            let mut lines: Vec<String> = frames
                .into_iter()
                .enumerate()
                .map(|(i, f)| format!("{}{f}", if i == 0 { "  " } else { "← " }))
                .collect();
            if more {
                lines.push("← …".into());
            }
            (amount(st), lines)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(file: &str, line: u32, function: Option<&str>) -> SourceLocation {
        SourceLocation {
            file: file.into(),
            line,
            column: 3,
            function: function.map(String::from),
        }
    }

    #[test]
    fn the_top_stack_fits_one_line_without_the_runtimes_frames() {
        let stack = AllocationStack {
            count: 600,
            bytes: 1_200_000,
            frames: vec![
                at("app.js", 5, Some("makeRecord")),
                at("app.js", 14, None),
                at("node:events", 519, Some("emit")),
                at("node:_http_server", 1, Some("parserOnIncoming")),
            ],
        };
        let (frames, more) = shown(&stack);
        assert_eq!(frames, ["makeRecord app.js:5:3", "app.js:14:3"]);
        assert!(more);
        assert_eq!(
            line(&stack),
            "makeRecord app.js:5:3 ← app.js:14:3 ← … (600 objects, 1.2 MB)"
        );
    }
}
