//! The statement inside a function that a stack frame stands for. V8's allocation stacks name
//! functions (their own position), not call sites; the line to show is the one inside the
//! function that calls the next frame, or, in the innermost frame, that creates the object.
//! Found by reading the function's tokens (the source reader's tokenizer): its extent by
//! the partner of its body's brace, so that nothing inside strings, templates, regular
//! expressions or comments matches.

use super::super::source::tokens::{Kind, Tokens};
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
    // A function's position starts code (its name or parameters), so reading from there
    // splits no string or comment.
    let t = Tokens::new(&source[from..]);
    let body = function_body(&t);
    let at = match needle {
        Needle::Call(name) => body.call(name, true),
        Needle::AnyMethod(methods) => methods.iter().filter_map(|m| body.call(m, false)).min(),
        Needle::New(class) => body
            .tokens_after(0)
            .find(|&k| t.is_ident(k, "new") && t.is_ident(k + 1, class)),
        Needle::ObjectLiteral => body.literal("{"),
        Needle::ArrayLiteral => body.literal("["),
        // The function's own parameters come first: look inside its body.
        Needle::Function => body
            .tokens_after(body.opening)
            .find(|&k| t.is(k, "=>") || t.is_ident(k, "function")),
    }?;
    Some(line_column(source, from + t.list[at].start()))
}

/// The tokens of one function, read from its position.
struct Body<'t, 'a> {
    t: &'t Tokens<'a>,
    /// Just past its parameters and the `{` or `=>` after them.
    opening: usize,
    /// One past its last token.
    end: usize,
}

impl Body<'_, '_> {
    /// The indices of the function's tokens from `from`.
    fn tokens_after(&self, from: usize) -> std::ops::Range<usize> {
        from.min(self.end)..self.end
    }

    /// `name(` as a call: as a method (`.name(`) or, with `plain_too`, a plain call. The
    /// function's own name (a declaration) is not a call.
    fn call(&self, name: &str, plain_too: bool) -> Option<usize> {
        let t = self.t;
        self.tokens_after(0).find(|&k| {
            if !t.is_ident(k, name) || !t.is(k + 1, "(") {
                return false;
            }
            let before = k.checked_sub(1);
            let is = |i: Option<usize>, s: &str| i.is_some_and(|i| t.is(i, s));
            let member = is(before, ".") || is(before, "?.");
            let declared = is(before, "function")
                || is(before, "*") && is(before.and_then(|b| b.checked_sub(1)), "function");
            !declared && (member || plain_too)
        })
    }

    /// The first `{` or `[` that opens a literal, after an operator that takes a value
    /// (`=`, `(`, `,`, `:`, `?`, `[`, `||`, `&&`, `??`, `return`): not a block after `)`
    /// or `=>`, not an index after a name. The function's own body brace is skipped.
    fn literal(&self, open: &str) -> Option<usize> {
        let t = self.t;
        let first_brace = self.tokens_after(0).find(|&k| t.is(k, "{"));
        let from = first_brace.map_or(0, |k| k + 1);
        self.tokens_after(from.max(1)).find(|&k| {
            if !t.is(k, open) {
                return false;
            }
            let before = t.str(k - 1);
            match t.list[k - 1].kind {
                Kind::Ident => before == "return",
                Kind::Punct => {
                    before != "=>" && before.ends_with(['=', '(', ',', ':', '?', '[', '|', '&'])
                }
                Kind::Literal => false,
            }
        })
    }
}

/// The function's extent: past its parameters to the end of a braced body, or for an
/// expression body, to the end of its line.
fn function_body<'t, 'a>(t: &'t Tokens<'a>) -> Body<'t, 'a> {
    let n = t.len();
    let first_line_end = t.text.find('\n').unwrap_or(t.text.len());
    // A name, then the parameters (or a lone parameter, then `=>`).
    let mut k = 0;
    while k < n
        && t.list[k].start() < first_line_end
        && !["(", "{", "=", "=>"].iter().any(|s| t.is(k, s))
    {
        k += 1;
    }
    if t.is(k, "(") {
        k = t.partner(k).map_or(n, |close| close + 1);
    }
    if t.is(k, "=>") {
        k += 1;
    }
    if t.is(k, "{") {
        let end = t.partner(k).map_or(n, |close| close + 1);
        return Body {
            t,
            opening: k + 1,
            end,
        };
    }
    // An expression body: to the end of its line.
    let from = t.list.get(k).map_or(t.text.len(), |tok| tok.start());
    let line_end = t.text[from..].find('\n').map_or(t.text.len(), |e| from + e);
    Body {
        t,
        opening: k.min(n),
        end: t.at_or_after(line_end),
    }
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
        // A destructured parameter is not an object literal of the body.
        let destructuring = "const h = ({ id }) => {\n  return keep({ id });\n};\n";
        assert_eq!(
            find(destructuring, at(1, 11), &Needle::ObjectLiteral),
            Some(at(2, 15))
        );
        // Nothing past the function's end: makeRecord holds no `new Session(`.
        assert_eq!(find(APP, make, &Needle::New("Session".into())), None);
        // A function's own declaration is not a call of it.
        assert_eq!(
            find(APP, at(3, 1), &Needle::calling("makeRecord").unwrap()),
            None
        );
    }

    #[test]
    fn regular_expressions_and_templates_do_not_end_the_function() {
        // A `}` in a regular expression, a `{` in a template's text: neither is a bracket.
        let src = "function tidy(s) {\n  const t = s.replace(/}/g, '') + `{${s}`;\n  return keep(t);\n}\n";
        assert_eq!(
            find(src, at(1, 14), &Needle::calling("keep").unwrap()),
            Some(at(3, 10))
        );
    }

    #[test]
    fn positions_past_the_text_find_nothing() {
        assert_eq!(find(APP, at(99, 1), &Needle::ObjectLiteral), None);
        assert_eq!(find("", at(1, 1), &Needle::ObjectLiteral), None);
    }
}
