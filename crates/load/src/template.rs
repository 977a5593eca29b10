//! `{{i}}` templates: strings in which the iteration number is substituted.
//!
//! A scenario's strings are split once, when the scenario is loaded, into literal pieces and
//! iteration slots, so rendering a request is a few `extend_from_slice` calls and an integer
//! formatted on the stack: no scanning, no `format!`, no allocation per request.
//!
//! `{{i}}` and `{{ i }}` are slots; any other `{{…}}` is left as literal text, so JSON or
//! templates meant for the service pass through untouched.

use std::fmt;

/// A string with `{{i}}` slots, pre-split for cheap rendering.
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Iteration,
}

impl Template {
    /// Splits `source` into literal text and `{{i}}` slots.
    pub fn new(source: impl Into<String>) -> Template {
        let source = source.into();
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = source.as_str();
        while let Some(open) = rest.find("{{") {
            match slot_len(&rest[open..]) {
                Some(len) => {
                    text.push_str(&rest[..open]);
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Iteration);
                    rest = &rest[open + len..];
                }
                None => {
                    // Not ours: keep one brace as text, so `{{{i}}}` still finds its slot.
                    text.push_str(&rest[..open + 1]);
                    rest = &rest[open + 1..];
                }
            }
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Template { source, parts }
    }

    /// The text as written in the scenario, with its `{{i}}` slots.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True if the template has at least one `{{i}}` slot.
    pub fn uses_iteration(&self) -> bool {
        self.parts.contains(&Part::Iteration)
    }

    /// Appends the template, with `iteration` in each slot, to `out`.
    pub fn render_into(&self, iteration: u64, out: &mut Vec<u8>) {
        for part in &self.parts {
            match part {
                Part::Text(text) => out.extend_from_slice(text.as_bytes()),
                Part::Iteration => push_decimal(out, iteration),
            }
        }
    }

    /// The template with `iteration` in each slot, as a new string.
    pub fn render(&self, iteration: u64) -> String {
        let mut out = Vec::with_capacity(self.source.len() + 8);
        self.render_into(iteration, &mut out);
        // Only UTF-8 text and ASCII digits went in.
        String::from_utf8(out).expect("template output is UTF-8")
    }

    /// Length in bytes once rendered with `iteration`, without rendering (for Content-Length).
    pub fn rendered_len(&self, iteration: u64) -> usize {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.len(),
                Part::Iteration => decimal_len(iteration),
            })
            .sum()
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.source, f)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// If `s` starts with `{{i}}` (spaces allowed inside the braces), its length in bytes.
fn slot_len(s: &str) -> Option<usize> {
    let inner = s.strip_prefix("{{")?;
    let after_i = inner.trim_start_matches(' ').strip_prefix('i')?;
    let rest = after_i.trim_start_matches(' ').strip_prefix("}}")?;
    Some(s.len() - rest.len())
}

/// Appends `n` in decimal without going through `fmt`.
pub(crate) fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

fn decimal_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_every_slot() {
        let t = Template::new("/users/{{i}}/items?x={{ i }}&y={{i}}");
        assert_eq!(t.render(42), "/users/42/items?x=42&y=42");
        assert_eq!(t.rendered_len(42), t.render(42).len());
        assert!(t.uses_iteration());
    }

    #[test]
    fn leaves_other_braces_alone() {
        for s in [
            "{{name}}",
            "{{",
            "}}",
            "a{{i",
            "{\"a\":{\"b\":1}}",
            "{{{i}}}",
            "",
        ] {
            let t = Template::new(s);
            let expected = s.replace("{{i}}", "7");
            assert_eq!(t.render(7), expected, "template {s:?}");
            assert_eq!(t.rendered_len(7), expected.len());
            assert_eq!(t.source(), s);
        }
        assert!(!Template::new("/health").uses_iteration());
    }

    #[test]
    fn decimal_formatting() {
        for n in [0u64, 9, 10, 99, 100, 123_456_789, u64::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
            assert_eq!(decimal_len(n), n.to_string().len());
        }
    }
}
