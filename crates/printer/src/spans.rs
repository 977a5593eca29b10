//! Prose marks code names with backticks (`` `userCache` ``); each format shows them its own
//! way: Markdown keeps them, HTML makes `<code>`, SARIF and GitHub annotations drop them.
//! The words stay the ones `prose` wrote.

/// A piece of prose: plain words, or a name from code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span<'a> {
    Text(&'a str),
    Code(&'a str),
}

/// The prose cut at its backticks. An unpaired backtick stays in the text.
pub fn spans(text: &str) -> Vec<Span<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('`') {
        let Some(len) = rest[open + 1..].find('`') else {
            break;
        };
        if open > 0 {
            out.push(Span::Text(&rest[..open]));
        }
        out.push(Span::Code(&rest[open + 1..open + 1 + len]));
        rest = &rest[open + 1 + len + 1..];
    }
    if !rest.is_empty() {
        out.push(Span::Text(rest));
    }
    out
}

/// The prose without its marks, for plain-text formats.
pub fn plain(text: &str) -> String {
    spans(text)
        .into_iter()
        .map(|s| match s {
            Span::Text(t) | Span::Code(t) => t,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_paired_backticks() {
        assert_eq!(
            spans("The Map `cache` grows, `a`"),
            vec![
                Span::Text("The Map "),
                Span::Code("cache"),
                Span::Text(" grows, "),
                Span::Code("a")
            ]
        );
        assert_eq!(plain("set `s` and `t` to null"), "set s and t to null");
    }

    #[test]
    fn an_unpaired_backtick_is_text() {
        assert_eq!(spans("a ` b"), vec![Span::Text("a ` b")]);
        assert_eq!(
            spans("`x` then `y"),
            vec![Span::Code("x"), Span::Text(" then `y")]
        );
    }
}
