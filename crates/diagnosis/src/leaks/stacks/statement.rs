//! The statement inside a function that a stack frame stands for. V8's allocation stacks name
//! functions (their own position), not call sites; the line to show is the one inside the
//! function that calls the next frame, or, in the innermost frame, that creates the object.
//! Found by reading the function's text: its extent by matching braces, with strings and
//! comments blanked out so that nothing inside them matches.

use super::super::source::LineColumn;

/// What to look for inside the function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Needle {
    /// A call of this function or method: `name(`, `.name(`, `new Name(`.
    Call(String),
    /// A call of any of these methods: `.push(` … (a collection growing).
    AnyMethod(&'static [&'static str]),
    /// `new Class(`.
    New(String),
    /// An object literal `{` (not a block).
    ObjectLiteral,
    /// An array literal `[` (not an index).
    ArrayLiteral,
    /// A function expression: `=>` or `function`.
    Function,
}

impl Needle {
    /// What creates an object of `class` (as the Summary names classes).
    pub fn creating(class: &str) -> Option<Needle> {
        match class {
            "Object" => Some(Needle::ObjectLiteral),
            "Array" => Some(Needle::ArrayLiteral),
            "(closure)" => Some(Needle::Function),
            c if is_identifier(c) => Some(Needle::New(c.to_string())),
            _ => None,
        }
    }

    /// A call of the function V8 names `name` (`get size`, `Foo.bar` and `bar` call as `bar`).
    pub fn calling(name: &str) -> Option<Needle> {
        let last = name.rsplit([' ', '.']).next().unwrap_or(name);
        is_identifier(last).then(|| Needle::Call(last.to_string()))
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_' || c == '$')
        && chars.all(is_ident_char)
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// Where `needle` first matches inside the function whose position V8 gives as
/// `start` (1-based; the `(` of its parameters, or its name), or `None`.
pub fn find(source: &str, start: LineColumn, needle: &Needle) -> Option<LineColumn> {
    let from = offset_of(source, start)?;
    let code = blank_strings_and_comments(&source[from..]);
    let extent = function_extent(&code);
    let body = &code[..extent];
    let at = match needle {
        Needle::Call(name) => find_call(body, name, true),
        Needle::AnyMethod(methods) => methods
            .iter()
            .filter_map(|m| find_call(body, m, false))
            .min(),
        Needle::New(class) => find_word(body, "new", |rest| {
            let rest = rest.trim_start();
            rest.starts_with(class.as_str()) && !rest[class.len()..].starts_with(is_ident_char)
        }),
        Needle::ObjectLiteral => find_literal(body, b'{'),
        Needle::ArrayLiteral => find_literal(body, b'['),
        Needle::Function => {
            // The function's own parameters come first; look past them.
            let skip = body.find(['{', '>']).map_or(0, |i| i + 1);
            [
                body[skip..].find("=>"),
                find_word(&body[skip..], "function", |_| true),
            ]
            .into_iter()
            .flatten()
            .min()
            .map(|i| i + skip)
        }
    }?;
    Some(line_column(source, from + at))
}

/// `name(` as a call: a whole identifier followed by `(`, as a method (`.name(`) or, with
/// `plain_too`, a plain call. The function's own name (a declaration) is not a call.
fn find_call(body: &str, name: &str, plain_too: bool) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = body[from..].find(name).map(|i| i + from) {
        from = i + name.len();
        let before = body[..i].chars().next_back();
        if before.is_some_and(is_ident_char) {
            continue;
        }
        let after = body[from..].trim_start();
        if !after.starts_with('(') || body[from..].starts_with(is_ident_char) {
            continue;
        }
        let prefix = body[..i].trim_end();
        let member = prefix.ends_with('.') || prefix.ends_with("?.");
        let declared = prefix.ends_with("function") || prefix.ends_with("function*");
        if declared || (!member && !plain_too) {
            continue;
        }
        return Some(i);
    }
    None
}

/// The keyword `word` as a whole word, where `rest` (the text after it) fits.
fn find_word(body: &str, word: &str, rest_fits: impl Fn(&str) -> bool) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = body[from..].find(word).map(|i| i + from) {
        from = i + word.len();
        let before = body[..i].chars().next_back();
        if before.is_some_and(is_ident_char) || body[from..].starts_with(is_ident_char) {
            continue;
        }
        if rest_fits(&body[from..]) {
            return Some(i);
        }
    }
    None
}

/// The first `{` or `[` that opens a literal: after `=`, `(`, `,`, `:`, `?`, `[`, `return`,
/// `||`, `&&`, `??` (not a block after `)` or `=>`, not an index after a name).
fn find_literal(body: &str, open: u8) -> Option<usize> {
    let bytes = body.as_bytes();
    // Skip the function's own opening brace (its body).
    let first_brace = bytes.iter().position(|&b| b == b'{').unwrap_or(0);
    for i in first_brace + 1..bytes.len() {
        if bytes[i] != open {
            continue;
        }
        let prefix = body[..i].trim_end();
        let fits = prefix.ends_with(['=', '(', ',', ':', '?', '[', '|', '&'])
            && !prefix.ends_with("=>")
            || prefix.ends_with("return") && !prefix[..prefix.len() - 6].ends_with(is_ident_char);
        if fits {
            return Some(i);
        }
    }
    None
}

/// How far the function reaches from its position: past its parameters to the end of a
/// braced body, or for an expression body, to the end of the line.
fn function_extent(code: &str) -> usize {
    let bytes = code.as_bytes();
    let mut i = 0;
    // Parameters (or a name, then parameters).
    while i < bytes.len() && bytes[i] != b'(' && bytes[i] != b'{' && bytes[i] != b'=' {
        if bytes[i] == b'\n' {
            break;
        }
        i += 1;
    }
    if i < bytes.len() && bytes[i] == b'(' {
        i = matching(bytes, i).map_or(bytes.len(), |e| e + 1);
    }
    // `=>` or white space, then a body.
    let rest = &code[i..];
    let skipped = rest.len() - rest.trim_start().len();
    let mut j = i + skipped;
    if code[j..].starts_with("=>") {
        j += 2;
        let rest = &code[j..];
        j += rest.len() - rest.trim_start().len();
    }
    if j < bytes.len() && bytes[j] == b'{' {
        return matching(bytes, j).map_or(bytes.len(), |e| e + 1);
    }
    // An expression body: to the end of its line.
    code[j..].find('\n').map_or(bytes.len(), |e| j + e)
}

/// The index of the bracket closing the one at `open` (strings and comments are blank).
fn matching(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The text with the contents of strings, template literals and comments replaced by
/// spaces (same length, new lines kept), so positions stay the same. `${…}` inside a
/// template is blanked too: good enough to find statements, which it rarely holds.
fn blank_strings_and_comments(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    let blank = |b: u8| if b == b'\n' { b'\n' } else { b' ' };
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' | b'\'' | b'`' => {
                out.push(b);
                i += 1;
                while i < bytes.len() && bytes[i] != b {
                    if bytes[i] == b'\\' && i + 1 < bytes.len() {
                        out.push(b' ');
                        i += 1;
                    }
                    if b != b'`' && bytes[i] == b'\n' {
                        break; // an unterminated string: stop at the line's end
                    }
                    out.push(blank(bytes[i]));
                    i += 1;
                }
                if i < bytes.len() {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    out.push(b' ');
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |e| i + 2 + e + 2);
                while i < end {
                    out.push(blank(bytes[i]));
                    i += 1;
                }
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    // Only ASCII bytes were replaced, by ASCII: still UTF-8 except where a multi-byte
    // character inside a string was blanked byte by byte, which is ASCII too.
    String::from_utf8(out).unwrap_or_default()
}

fn offset_of(source: &str, at: LineColumn) -> Option<usize> {
    let line_start = if at.line <= 1 {
        0
    } else {
        source
            .match_indices('\n')
            .nth(at.line as usize - 2)
            .map(|(i, _)| i + 1)?
    };
    let offset = line_start + at.column.saturating_sub(1) as usize;
    (offset <= source.len() && source.is_char_boundary(offset)).then_some(offset)
}

fn line_column(source: &str, offset: usize) -> LineColumn {
    let before = &source[..offset];
    let line = before.matches('\n').count() as u32 + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    LineColumn {
        line,
        column: (offset - line_start) as u32 + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "'use strict';
const store = require('store');
function makeRecord(id) {
  const note = 'return { fake }'; // not code: return {
  return { id, payload: new Array(10).fill(id) };
}
class Session { constructor(u) { this.u = u; } }
const handle = (req) => {
  const s = new Session(req.user);
  records.push(makeRecord(req.id));
  store.remember(req.id, { at: Date.now() });
  bus.on('x', () => s);
};
";

    fn at(line: u32, column: u32) -> LineColumn {
        LineColumn { line, column }
    }

    #[test]
    fn finds_the_statement_inside_the_function() {
        // makeRecord's position is the `(` of its parameters: line 3, column 20.
        let make = at(3, 20);
        assert_eq!(find(APP, make, &Needle::ObjectLiteral), Some(at(5, 10)));
        assert_eq!(find(APP, make, &Needle::ArrayLiteral), None);
        // The handler (an arrow function at line 8, column 16).
        let handler = at(8, 16);
        assert_eq!(
            find(APP, handler, &Needle::calling("makeRecord").unwrap()),
            Some(at(10, 16))
        );
        assert_eq!(
            find(APP, handler, &Needle::creating("Session").unwrap()),
            Some(at(9, 13))
        );
        assert_eq!(
            find(APP, handler, &Needle::calling("Store.remember").unwrap()),
            Some(at(11, 9))
        );
        assert_eq!(
            find(APP, handler, &Needle::AnyMethod(&["push", "set"])),
            Some(at(10, 11))
        );
        assert_eq!(find(APP, handler, &Needle::Function), Some(at(12, 18)));
        // Nothing past the function's end: makeRecord holds no `new Session(`.
        assert_eq!(find(APP, make, &Needle::New("Session".into())), None);
        // A function's own declaration is not a call of it.
        assert_eq!(
            find(APP, at(3, 1), &Needle::calling("makeRecord").unwrap()),
            None
        );
    }

    #[test]
    fn positions_past_the_text_find_nothing() {
        assert_eq!(find(APP, at(99, 1), &Needle::ObjectLiteral), None);
        assert_eq!(find("", at(1, 1), &Needle::ObjectLiteral), None);
    }
}
