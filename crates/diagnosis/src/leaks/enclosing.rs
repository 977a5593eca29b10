//! Which function a line of a script is in. The snapshot gives every function's start (the
//! position of its parameters) but not its end; the body's braces in the source give that.
//! So the innermost of the program's functions whose braced body holds a position is the
//! one a statement found by reading the source belongs to.

/// A 1-based line and column (bytes) as a byte offset into `text`.
pub fn offset(text: &str, line: u32, column: u32) -> Option<usize> {
    let mut start = 0;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    let at = start + (column as usize).checked_sub(1)?;
    (at <= text.len()).then_some(at)
}

/// The byte range of the braced body of the function whose parameters start at or after
/// `start`: `(a, b) {` or `(a, b) => {`. `None` for an arrow whose body is an expression.
pub fn body_range(text: &str, start: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let open_paren = start + text.get(start..)?.find('(')?;
    let close_paren = matching(bytes, open_paren, b'(', b')')?;
    let mut i = skip_space(bytes, close_paren + 1);
    if bytes.get(i..i + 2) == Some(b"=>") {
        i = skip_space(bytes, i + 2);
    }
    if bytes.get(i) != Some(&b'{') {
        return None;
    }
    Some((i, matching(bytes, i, b'{', b'}')?))
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// The position of the bracket closing the one at `open`, skipping strings and comments
/// (a brace inside a string literal does not count).
fn matching(bytes: &[u8], open: usize, left: u8, right: u8) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' | b'`' => {
                let quote = bytes[i];
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b if b == left => depth += 1,
            b if b == right => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Of `functions` (their names and 1-based start positions in `text`), the innermost whose
/// body holds the position `line`:`column`.
pub fn innermost<'f>(
    text: &str,
    functions: impl IntoIterator<Item = (&'f str, u32, u32)>,
    line: u32,
    column: u32,
) -> Option<&'f str> {
    let at = offset(text, line, column)?;
    functions
        .into_iter()
        .filter_map(|(name, l, c)| {
            let (open, close) = body_range(text, offset(text, l, c)?)?;
            (open < at && at < close).then_some((open, name))
        })
        .max_by_key(|&(open, _)| open)
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "\
function handle(req, body) {
  const ack = () => req.socket.remoteAddress;
  const label = '}';
  pending.set(body.order, { ack }); // {
  return { ok: true };
}
const journal = { add(line) { text += line; } };
";

    #[test]
    fn the_innermost_braced_function_holds_the_line() {
        let functions = [("handle", 1, 16), ("ack", 2, 15), ("add", 7, 22)];
        // Past the arrow (an expression, no braces) and a brace in a string.
        assert_eq!(innermost(SOURCE, functions, 4, 3), Some("handle"));
        assert_eq!(innermost(SOURCE, functions, 7, 31), Some("add"));
        assert_eq!(innermost(SOURCE, functions, 8, 1), None);
    }
}
