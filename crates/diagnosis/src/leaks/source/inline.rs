//! Whether a function is written inline as a call's argument (`bus.on('x', function onX()
//! {…})`): V8 names it `onX`, but that name is only usable inside its own body, so the
//! program has nothing to pass back to remove it.

use super::{Code, LineColumn, LineIndex};
use crate::leaks::source::tokens::Kind;

/// Whether the function whose position V8 gives as `at` (its parameter list, or its one
/// bare parameter) is an argument of a call or an element of a literal: what comes before
/// its `function`/`async`/name is a `(` or a `,`.
pub fn is_call_argument(source: &str, at: LineColumn) -> bool {
    let lines = LineIndex::new(source);
    let code = Code::new(source);
    let Some(offset) = lines.offset(source, at) else {
        return false;
    };
    let t = &code.t;
    let mut k = t.at_or_after(offset);
    if k >= t.len() {
        return false;
    }
    // Back over the name, `function` (and a generator's `*`), `async`.
    let step_back = |k: usize, word: &str| {
        if k > 0 && t.is(k - 1, word) {
            k - 1
        } else {
            k
        }
    };
    if k > 0 && t.list[k - 1].kind == Kind::Ident && !t.is(k - 1, "function") {
        k -= 1;
    }
    k = step_back(k, "*");
    k = step_back(k, "function");
    k = step_back(k, "async");
    k > 0 && (t.is(k - 1, "(") || t.is(k - 1, ","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inline(src: &str, column: u32) -> bool {
        is_call_argument(src, LineColumn { line: 1, column })
    }

    #[test]
    fn a_named_function_passed_to_a_call_is_inline() {
        let src = "bus.on('price', function onPrice(p) { seen.push(p); });";
        assert!(inline(src, 33));
        let src = "bus.on('price', async function onPrice(p) {});";
        assert!(inline(src, 39));
    }

    #[test]
    fn declared_or_assigned_functions_are_not() {
        assert!(!inline("function onPrice(p) { seen.push(p); }", 17));
        assert!(!inline("const onPrice = function (p) {};", 26));
        assert!(!inline("const onPrice = (p) => {};", 17));
        assert!(!inline("  async function onPrice(p) {}", 25));
    }
}
