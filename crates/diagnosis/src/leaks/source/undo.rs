//! Whether the function that grows a collection hands back its own undo: `subscribe(fn)`
//! that adds `fn` to a set and returns `() => listeners.delete(fn)`. A caller that drops
//! what the call returns can never take its entry back out; keeping it and calling it is
//! the fix the library means.

use super::{Code, LineColumn, LineIndex, Receiver, NO_BLOCK};

/// Whether the innermost function around `at` (the statement that grows the collection
/// `receiver`, as [`super::find_growth_site`] gives it) has a `return` of a function whose
/// own code calls a method `is_undo` accepts on the same receiver (`listeners.delete(`,
/// `this.handlers.splice(`).
pub fn returns_undo(
    source: &str,
    at: LineColumn,
    receiver: Receiver,
    is_undo: impl Fn(&str) -> bool,
) -> bool {
    let lines = LineIndex::new(source);
    let code = Code::new(source);
    let Some(offset) = lines.offset(source, at) else {
        return false;
    };
    let Some(body) = code.function_body_around(code.t.at_or_after(offset)) else {
        return false;
    };
    let (from, to) = code.block_range(body);
    (from..to)
        .filter(|&i| code.t.is(i, "return") && code.function_body_around(i) == Some(body))
        .filter_map(|i| code.returned_function(i, to))
        .any(|(start, end)| (start..end).any(|k| code.calls_undo(k, receiver, &is_undo)))
}

impl Code<'_> {
    /// The body of the innermost function (named or not) around token `i`.
    fn function_body_around(&self, i: usize) -> Option<usize> {
        let mut block = self.parent(i);
        while block != NO_BLOCK {
            let before = block.checked_sub(1)?;
            // `(…) {` is a function's body unless a statement's keyword leads the brackets.
            let is_statement = || {
                self.t.partner(before).is_some_and(|open| {
                    open > 0
                        && ["if", "for", "while", "switch", "catch", "with"]
                            .iter()
                            .any(|w| self.t.is(open - 1, w))
                })
            };
            if self.t.is(before, "=>") || (self.t.is(before, ")") && !is_statement()) {
                return Some(block);
            }
            block = self.parent(block);
        }
        None
    }

    /// The tokens of the function expression a `return` at token `ret` gives back
    /// (`() => …`, `x => …`, `function () {…}`, `async …`), up to the statement's end;
    /// `None` when it returns anything else.
    fn returned_function(&self, ret: usize, end: usize) -> Option<(usize, usize)> {
        let t = &self.t;
        let mut k = ret + 1;
        if t.is(k, "async") {
            k += 1;
        }
        let is_function = t.is(k, "function")
            || (t.is(k, "(") && t.partner(k).is_some_and(|c| t.is(c + 1, "=>")))
            || t.is(k + 1, "=>");
        if !is_function {
            return None;
        }
        // The statement ends at a `;` or the block's end at the `return`'s own level.
        let level = self.parent(ret);
        let stop = (k..end)
            .find(|&j| t.is(j, ";") && self.parent(j) == level)
            .unwrap_or(end);
        Some((k, stop))
    }

    /// Whether token `k` is `receiver` followed by a call of an undo method:
    /// `listeners.delete(`, `this.handlers.splice(`.
    fn calls_undo(&self, k: usize, receiver: Receiver, is_undo: &impl Fn(&str) -> bool) -> bool {
        let t = &self.t;
        let (name, property) = match receiver {
            Receiver::Variable(n) => (n, false),
            Receiver::Property(n) => (n, true),
        };
        let after_dot = k > 0 && (t.is(k - 1, ".") || t.is(k - 1, "?."));
        t.is_ident(k, name)
            && after_dot == property
            && (t.is(k + 1, ".") || t.is(k + 1, "?."))
            && is_undo(t.str(k + 2))
            && t.is(k + 3, "(")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn undo(m: &str) -> bool {
        ["delete", "splice", "remove"].contains(&m)
    }

    fn returns(src: &str, line: u32, column: u32, receiver: Receiver) -> bool {
        returns_undo(src, LineColumn { line, column }, receiver, undo)
    }

    const STORE: &str = "const create = () => {\n  const listeners = new Set();\n  \
                         const subscribe = (listener) => {\n    listeners.add(listener);\n    \
                         return () => listeners.delete(listener);\n  };\n  return { subscribe };\n};\n";

    #[test]
    fn a_returned_arrow_that_deletes_from_the_same_set() {
        assert!(returns(STORE, 4, 5, Receiver::Variable("listeners")));
    }

    #[test]
    fn a_method_returning_a_function_that_splices_its_property() {
        let src = "class Hub {\n  on(fn) {\n    this.handlers.push(fn);\n    \
                   return function off() { const i = this.handlers.indexOf(fn); this.handlers.splice(i, 1); };\n  }\n}\n";
        assert!(returns(src, 3, 10, Receiver::Property("handlers")));
    }

    #[test]
    fn quiet_when_nothing_is_returned_or_the_undo_is_elsewhere() {
        let src = "function use(fn) {\n  handlers.push(fn);\n  return handlers.length - 1;\n}\n\
                   function eject(id) { handlers.splice(id, 1); }\n";
        assert!(!returns(src, 2, 3, Receiver::Variable("handlers")));
        // A returned function that takes out of another collection.
        let src = "function on(fn) {\n  handlers.push(fn);\n  return () => others.delete(fn);\n}\n";
        assert!(!returns(src, 2, 3, Receiver::Variable("handlers")));
        // The undo inside a nested function's return, not this one's.
        let src = "function on(fn) {\n  handlers.push(fn);\n  \
                   const later = () => { return () => handlers.delete(fn); };\n  return 1;\n}\n";
        assert!(!returns(src, 2, 3, Receiver::Variable("handlers")));
    }

    #[test]
    fn a_statement_block_is_not_the_function() {
        let src = "function on(fn) {\n  if (fn) {\n    handlers.push(fn);\n  }\n  \
                   return () => handlers.delete(fn);\n}\n";
        assert!(returns(src, 3, 5, Receiver::Variable("handlers")));
    }
}
