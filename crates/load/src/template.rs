//! `{{i}}` / `{{seq}}` templates: strings in which the user's number is substituted.
//!
//! Two numbers, because a hunt replays the same users round after round (as a test of 1,000
//! users run twice would): `{{i}}` is the user's number within the round (0 … iterations − 1,
//! the same users every round), `{{seq}}` counts every iteration of the whole run, warm-up
//! included, for values that must never repeat (order ids, upload names).
//!
//! A scenario's strings are split once, when the scenario is loaded, into literal pieces and
//! number slots, so rendering a request is a few `extend_from_slice` calls and an integer
//! formatted on the stack: no scanning, no `format!`, no allocation per request.
//!
//! `{{i}}`, `{{seq}}` (spaces allowed inside the braces) are slots; any other `{{…}}` is left
//! as literal text, so JSON or templates meant for the service pass through untouched.

use std::fmt;

/// The numbers an iteration fills its templates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Numbers {
    /// `{{i}}`: the user's number within the round; it repeats every round.
    pub i: u64,
    /// `{{seq}}`: the iteration's number across the whole run; it never repeats.
    pub seq: u64,
}

impl Numbers {
    /// The numbers of iteration `seq` in a round whose first iteration is `round_start`.
    pub fn in_round(round_start: u64, seq: u64) -> Numbers {
        Numbers {
            i: seq.saturating_sub(round_start),
            seq,
        }
    }
}

impl From<u64> for Numbers {
    /// Both numbers the same: a single round, or a check that needs just some value.
    fn from(n: u64) -> Numbers {
        Numbers { i: n, seq: n }
    }
}

/// A string with `{{i}}` / `{{seq}}` slots, pre-split for cheap rendering.
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    /// `{{i}}`
    Iteration,
    /// `{{seq}}`
    Sequence,
    /// `{{name}}` of a value an earlier step captured: its index among the capture names.
    Captured(usize),
}

impl Template {
    /// Splits `source` into literal text and `{{i}}` / `{{seq}}` slots.
    pub fn new(source: impl Into<String>) -> Template {
        let source = source.into();
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = source.as_str();
        while let Some(open) = rest.find("{{") {
            match slot_len(&rest[open..]) {
                Some((len, slot)) => {
                    text.push_str(&rest[..open]);
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(slot);
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

    /// Turns `{{name}}` (spaces allowed inside the braces) into a slot for the captured
    /// value `names[k]`, for each name; other text stays as it is.
    pub(crate) fn bind_captures(&mut self, names: &[String]) {
        if names.is_empty() {
            return;
        }
        let mut parts = Vec::with_capacity(self.parts.len());
        for part in std::mem::take(&mut self.parts) {
            let Part::Text(text) = part else {
                parts.push(part);
                continue;
            };
            let mut rest = text.as_str();
            let mut literal = String::new();
            while let Some(open) = rest.find("{{") {
                match captured_slot(&rest[open..], names) {
                    Some((len, slot)) => {
                        literal.push_str(&rest[..open]);
                        if !literal.is_empty() {
                            parts.push(Part::Text(std::mem::take(&mut literal)));
                        }
                        parts.push(Part::Captured(slot));
                        rest = &rest[open + len..];
                    }
                    None => {
                        literal.push_str(&rest[..open + 1]);
                        rest = &rest[open + 1..];
                    }
                }
            }
            literal.push_str(rest);
            if !literal.is_empty() {
                parts.push(Part::Text(literal));
            }
        }
        self.parts = parts;
    }

    /// The text as written in the scenario, with its slots.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True if the template has at least one `{{i}}` or `{{seq}}` slot.
    pub fn uses_iteration(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Iteration | Part::Sequence))
    }

    /// True if the template has a `{{seq}}` slot: a value never repeated in a run.
    pub fn uses_sequence(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Sequence))
    }

    /// Appends the template, with the numbers in their slots, to `out`.
    pub fn render_into(&self, numbers: impl Into<Numbers>, out: &mut Vec<u8>) {
        self.render_captured_into(numbers.into(), &[], out);
    }

    /// [`Template::render_into`] with the values earlier steps captured (by slot; a value
    /// not captured renders as nothing).
    pub(crate) fn render_captured_into(
        &self,
        numbers: Numbers,
        captured: &[String],
        out: &mut Vec<u8>,
    ) {
        for part in &self.parts {
            match part {
                Part::Text(text) => out.extend_from_slice(text.as_bytes()),
                Part::Iteration => push_decimal(out, numbers.i),
                Part::Sequence => push_decimal(out, numbers.seq),
                Part::Captured(slot) => {
                    let value = captured.get(*slot).map_or("", String::as_str);
                    out.extend_from_slice(value.as_bytes());
                }
            }
        }
    }

    /// The template with the numbers in their slots, as a new string.
    pub fn render(&self, numbers: impl Into<Numbers>) -> String {
        let mut out = Vec::with_capacity(self.source.len() + 8);
        self.render_into(numbers, &mut out);
        // Only UTF-8 text and ASCII digits went in.
        String::from_utf8(out).expect("template output is UTF-8")
    }

    /// Length in bytes once rendered, without rendering (for Content-Length).
    pub fn rendered_len(&self, numbers: impl Into<Numbers>) -> usize {
        self.rendered_captured_len(numbers.into(), &[])
    }

    /// [`Template::rendered_len`] with captured values.
    pub(crate) fn rendered_captured_len(&self, numbers: Numbers, captured: &[String]) -> usize {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.len(),
                Part::Iteration => decimal_len(numbers.i),
                Part::Sequence => decimal_len(numbers.seq),
                Part::Captured(slot) => captured.get(*slot).map_or(0, String::len),
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

/// If `s` starts with `{{i}}` or `{{seq}}` (spaces allowed inside the braces), its length in
/// bytes and which slot it is.
fn slot_len(s: &str) -> Option<(usize, Part)> {
    let inner = s.strip_prefix("{{")?.trim_start_matches(' ');
    let (after_name, slot) = if let Some(after) = inner.strip_prefix("seq") {
        (after, Part::Sequence)
    } else {
        (inner.strip_prefix('i')?, Part::Iteration)
    };
    let rest = after_name.trim_start_matches(' ').strip_prefix("}}")?;
    Some((s.len() - rest.len(), slot))
}

/// If `s` starts with `{{name}}` for one of `names` (spaces allowed inside the braces), its
/// length in bytes and the name's index.
fn captured_slot(s: &str, names: &[String]) -> Option<(usize, usize)> {
    let inner = s.strip_prefix("{{")?;
    let (name, _) = inner.split_once("}}")?;
    let slot = names.iter().position(|n| n == name.trim_matches(' '))?;
    Some((2 + name.len() + 2, slot))
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
    fn i_and_seq_are_filled_each_with_its_own_number() {
        let t = Template::new("/users/{{i}}/orders/{{seq}}?again={{ seq }}&{{ i }}");
        let at = Numbers { i: 3, seq: 1003 };
        assert_eq!(t.render(at), "/users/3/orders/1003?again=1003&3");
        assert_eq!(t.rendered_len(at), t.render(at).len());
        assert!(Template::new("/o/{{seq}}").uses_iteration());
        // Near misses stay text.
        for s in ["{{se}}", "{{seqq}}", "{{sequence}}", "{{iseq}}"] {
            assert_eq!(Template::new(s).render(at), s);
        }
    }

    #[test]
    fn every_round_numbers_the_same_users_and_seq_keeps_counting() {
        // A warm-up of 4, then two rounds of 3, as a hunt runs them back to back.
        let rounds = [0..4u64, 4..7, 7..10];
        let numbers: Vec<Vec<Numbers>> = rounds
            .iter()
            .map(|r| {
                r.clone()
                    .map(|seq| Numbers::in_round(r.start, seq))
                    .collect()
            })
            .collect();
        let users = |round: &Vec<Numbers>| round.iter().map(|n| n.i).collect::<Vec<_>>();
        assert_eq!(users(&numbers[0]), [0, 1, 2, 3]);
        assert_eq!(users(&numbers[1]), [0, 1, 2]);
        assert_eq!(users(&numbers[2]), [0, 1, 2]);
        let seqs: Vec<u64> = numbers.iter().flatten().map(|n| n.seq).collect();
        assert_eq!(seqs, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn captured_values_fill_their_slots() {
        let mut t = Template::new("/s/{{ id }}/{{i}}?t={{token}}&x={{other}}");
        t.bind_captures(&["token".to_owned(), "id".to_owned()]);
        let values = ["tk".to_owned(), "s-9".to_owned()];
        let mut out = Vec::new();
        t.render_captured_into(Numbers::from(4), &values, &mut out);
        assert_eq!(out, b"/s/s-9/4?t=tk&x={{other}}");
        assert_eq!(
            t.rendered_captured_len(Numbers::from(4), &values),
            out.len()
        );
        // Not captured (yet): nothing.
        assert_eq!(t.render(4), "/s//4?t=&x={{other}}");
        assert_eq!(t.source(), "/s/{{ id }}/{{i}}?t={{token}}&x={{other}}");
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
