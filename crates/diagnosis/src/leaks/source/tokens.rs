//! A JavaScript tokenizer just good enough to read structure: identifiers, punctuators and
//! literals, with comments dropped and every bracket paired with its partner. Strings,
//! template literals (their `${…}` parts are code again), regular expressions and comments
//! are skipped so that a `{` or a name inside them is never taken for code. One pass,
//! linear in the text; it never fails (an unterminated string ends at its line, an unpaired
//! bracket has no partner).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A name or keyword (`cache`, `const`, `#private`).
    Ident,
    /// An operator or bracket (`.`, `(`, `??=`, `=>`; `${` opens a template's code part).
    Punct,
    /// A string, template text, number or regular expression.
    Literal,
}

/// 12 bytes: a script is at most [`super::MAX_SOURCE`] bytes, so offsets fit in 32 bits, and
/// a bundle has millions of tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    /// Byte range in the text.
    start: u32,
    end: u32,
}

impl Token {
    pub fn start(&self) -> usize {
        self.start as usize
    }

    pub fn end(&self) -> usize {
        self.end as usize
    }
}

pub struct Tokens<'a> {
    pub text: &'a str,
    pub list: Vec<Token>,
    /// For an opening bracket (`{`, `(`, `[`, `${`) the index of its closing one and back;
    /// `NONE` for other tokens and unpaired brackets.
    partner: Vec<u32>,
}

const NONE: u32 = u32::MAX;

/// Multi-character punctuators, longest first so the first match is the longest.
const PUNCTUATORS: [&str; 34] = [
    ">>>=", "...", "===", "!==", "**=", "<<=", ">>=", ">>>", "&&=", "||=", "??=", "=>", "==", "!=",
    "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
    "**", "<<", ">>", "${",
];

/// Keywords after which a `/` starts a regular expression rather than a division.
const BEFORE_REGEX: [&str; 15] = [
    "return",
    "typeof",
    "instanceof",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
    "case",
    "do",
    "else",
    "yield",
    "await",
    "extends",
];

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

impl<'a> Tokens<'a> {
    /// Tokens of `text`, which must be shorter than 4 GB (scripts are read up to
    /// [`super::MAX_SOURCE`]).
    pub fn new(text: &'a str) -> Tokens<'a> {
        let mut t = Tokens {
            text,
            list: Vec::new(),
            partner: Vec::new(),
        };
        t.scan();
        t
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// The text of token `i`.
    pub fn str(&self, i: usize) -> &'a str {
        let t = self.list[i];
        &self.text[t.start()..t.end()]
    }

    pub fn is(&self, i: usize, punct_or_word: &str) -> bool {
        i < self.list.len() && self.str(i) == punct_or_word && self.list[i].kind != Kind::Literal
    }

    pub fn is_ident(&self, i: usize, name: &str) -> bool {
        i < self.list.len() && self.list[i].kind == Kind::Ident && self.str(i) == name
    }

    /// The partner of bracket `i`.
    pub fn partner(&self, i: usize) -> Option<usize> {
        self.partner
            .get(i)
            .filter(|&&p| p != NONE)
            .map(|&p| p as usize)
    }

    /// The index of the first token starting at or after byte `offset`.
    pub fn at_or_after(&self, offset: usize) -> usize {
        self.list.partition_point(|t| t.start() < offset)
    }

    fn push(&mut self, kind: Kind, start: usize, end: usize) {
        self.list.push(Token {
            kind,
            start: start as u32,
            end: end as u32,
        });
        self.partner.push(NONE);
    }

    fn pair(&mut self, open: usize) {
        let close = self.list.len() - 1;
        self.partner[open] = close as u32;
        self.partner[close] = open as u32;
    }

    /// Whether a `/` here starts a regular expression: at the start, after an operator or
    /// an opening bracket, or after a keyword that takes an expression.
    fn regex_allowed(&self) -> bool {
        let Some(&last) = self.list.last() else {
            return true;
        };
        let s = &self.text[last.start()..last.end()];
        match last.kind {
            Kind::Literal => false,
            Kind::Ident => BEFORE_REGEX.contains(&s),
            Kind::Punct => !matches!(s, ")" | "]" | "}" | "++" | "--"),
        }
    }

    fn scan(&mut self) {
        let b = self.text.as_bytes();
        let n = b.len();
        // Open brackets: token index, and whether it is a template's `${`.
        let mut open: Vec<(usize, bool)> = Vec::new();
        let mut i = 0;
        if b.starts_with(b"#!") {
            i = line_end(b, 0);
        }
        while i < n {
            let c = b[i];
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => i += 1,
                b'/' if b.get(i + 1) == Some(&b'/') => i = line_end(b, i),
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    i = self.text[i + 2..].find("*/").map_or(n, |p| i + 2 + p + 2);
                }
                b'/' if self.regex_allowed() => {
                    let end = regex_end(b, i);
                    self.push(Kind::Literal, i, end);
                    i = end;
                }
                b'\'' | b'"' => {
                    let end = string_end(b, i);
                    self.push(Kind::Literal, i, end);
                    i = end;
                }
                b'`' => i = self.template(i + 1, i, &mut open),
                b'}' if matches!(open.last(), Some(&(_, true))) => {
                    let (at, _) = open.pop().unwrap();
                    self.push(Kind::Punct, i, i + 1);
                    self.pair(at);
                    i = self.template(i + 1, i + 1, &mut open);
                }
                b'0'..=b'9' => {
                    let end = number_end(b, i);
                    self.push(Kind::Literal, i, end);
                    i = end;
                }
                b'.' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                    let end = number_end(b, i);
                    self.push(Kind::Literal, i, end);
                    i = end;
                }
                _ if is_ident_byte(c) || c == b'#' || c == b'\\' => {
                    let mut end = i + 1;
                    while end < n && (is_ident_byte(b[end]) || b[end] == b'\\') {
                        end += 1;
                    }
                    self.push(Kind::Ident, i, end);
                    i = end;
                }
                _ => {
                    let rest = &b[i..];
                    let len = PUNCTUATORS
                        .iter()
                        .find(|p| {
                            rest.starts_with(p.as_bytes())
                                // `a?.5:b` is a conditional, not optional chaining.
                                && !(**p == "?." && rest.get(2).is_some_and(u8::is_ascii_digit))
                        })
                        .map_or(1, |p| p.len());
                    self.push(Kind::Punct, i, i + len);
                    match c {
                        b'{' | b'(' | b'[' => open.push((self.list.len() - 1, false)),
                        b'}' | b')' | b']' => {
                            let want = match c {
                                b'}' => b'{',
                                b')' => b'(',
                                _ => b'[',
                            };
                            // Pair with the nearest matching opener; stray closers are left
                            // unpaired rather than unbalancing everything after them.
                            if let Some(k) = open
                                .iter()
                                .rposition(|&(t, tpl)| !tpl && b[self.list[t].start()] == want)
                            {
                                let (at, _) = open[k];
                                open.truncate(k);
                                self.pair(at);
                            }
                        }
                        _ => {}
                    }
                    i += len;
                }
            }
        }
    }

    /// Scans template text from `i` (just past a backtick or a `${…}`'s `}`): the text up
    /// to the closing backtick is one literal; a `${` opens a code part, pushed on `open`.
    /// Returns where scanning goes on.
    fn template(&mut self, mut i: usize, start: usize, open: &mut Vec<(usize, bool)>) -> usize {
        let b = self.text.as_bytes();
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'`' => {
                    self.push(Kind::Literal, start, i + 1);
                    return i + 1;
                }
                b'$' if b.get(i + 1) == Some(&b'{') => {
                    self.push(Kind::Literal, start, i);
                    self.push(Kind::Punct, i, i + 2);
                    open.push((self.list.len() - 1, true));
                    return i + 2;
                }
                _ => i += 1,
            }
        }
        self.push(Kind::Literal, start, b.len());
        b.len()
    }
}

fn line_end(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| i + p)
}

/// The end of a quoted string starting at `i`; an unterminated one ends at its line.
fn string_end(b: &[u8], i: usize) -> usize {
    let quote = b[i];
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'\n' => return j,
            c if c == quote => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

/// The end of a regular expression literal starting at `i` (flags included); a `/`
/// inside a character class does not end it.
fn regex_end(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    let mut class = false;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'\n' => return j,
            b'[' => {
                class = true;
                j += 1
            }
            b']' => {
                class = false;
                j += 1
            }
            b'/' if !class => {
                j += 1;
                while j < b.len() && is_ident_byte(b[j]) {
                    j += 1;
                }
                return j;
            }
            _ => j += 1,
        }
    }
    b.len()
}

/// The end of a number (`12`, `0x1f`, `1_000n`, `1.5e-3`, `.5`).
fn number_end(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        let c = b[j];
        let exponent_sign = (c == b'+' || c == b'-')
            && matches!(b[j - 1], b'e' | b'E')
            && !b[i..j].starts_with(b"0x")
            && !b[i..j].starts_with(b"0X");
        if is_ident_byte(c) || c == b'.' || exponent_sign {
            j += 1;
        } else {
            break;
        }
    }
    j.min(b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(src: &str) -> Vec<&str> {
        let t = Tokens::new(src);
        (0..t.len()).map(|i| t.str(i)).collect()
    }

    #[test]
    fn skips_comments_and_keeps_strings_whole() {
        assert_eq!(
            words("a.set(1) // cache.set(\n/* b.push( */ 'x{' + \"}\""),
            ["a", ".", "set", "(", "1", ")", "'x{'", "+", "\"}\""]
        );
    }

    #[test]
    fn template_code_parts_are_code() {
        let src = "`a ${ m.set(k, `${x}`) } {b`";
        let t = Tokens::new(src);
        let w: Vec<&str> = (0..t.len()).map(|i| t.str(i)).collect();
        assert_eq!(
            w,
            [
                "`a ", "${", "m", ".", "set", "(", "k", ",", "`", "${", "x", "}", "`", ")", "}",
                " {b`"
            ]
        );
        assert_eq!(t.partner(1), Some(14));
        assert_eq!(t.partner(9), Some(11));
    }

    #[test]
    fn regex_or_division() {
        assert_eq!(words("x = /}/g; y"), ["x", "=", "/}/g", ";", "y"]);
        assert_eq!(words("a / b / c"), ["a", "/", "b", "/", "c"]);
        assert_eq!(
            words("return /[/]{/.test(s)"),
            ["return", "/[/]{/", ".", "test", "(", "s", ")"]
        );
        assert_eq!(words("(a) / 2"), ["(", "a", ")", "/", "2"]);
    }

    #[test]
    fn brackets_are_paired_across_lines() {
        let t = Tokens::new("function f(a = {}) {\n  if (a) { g('}') }\n}\nx");
        let body = (0..t.len()).find(|&i| t.is(i, "{") && i > 5).unwrap();
        assert_eq!(t.str(t.partner(body).unwrap() + 1), "x");
        assert_eq!(t.partner(2), Some(7)); // the parameter list
    }

    #[test]
    fn operators_are_whole() {
        assert_eq!(
            words("m[k] ??= v; n ||= 1; a?.b; c?.5:d; e === f"),
            [
                "m", "[", "k", "]", "??=", "v", ";", "n", "||=", "1", ";", "a", "?.", "b", ";",
                "c", "?", ".5", ":", "d", ";", "e", "===", "f"
            ]
        );
    }
}
