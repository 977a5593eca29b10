//! Finding the line that adds to a growing collection or registers a listener, by reading
//! the script the snapshot names. The snapshot records where functions are defined, not
//! where a call happens; when a collection is named (`userCache`), the line that grows it is
//! the one that calls `userCache.set(` / `.push(` / `.add(` or assigns `userCache[…] =`.

use std::io::Read;
use std::path::Path;

mod inline;
pub(super) mod tokens;
mod undo;

pub use inline::is_call_argument;
use tokens::{Kind, Tokens};
pub use undo::returns_undo;

/// Scripts larger than this are not read. The file is named by the snapshot, which may come
/// from anyone, and is read whole to find one line. Hand-written modules are kilobytes and
/// the largest server bundles a few megabytes (and their positions come through source maps
/// anyway); past 32 MB a file is not a script a person looks for a line in, and reading it
/// would only cost memory.
pub const MAX_SOURCE: u64 = 32 << 20;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineColumn {
    pub line: u32,
    pub column: u32,
}

/// The text of the script a snapshot names (a path or a `file://` URL), if it is a regular
/// file of at most [`MAX_SOURCE`] bytes; `None` for anything else: a missing or unreadable
/// script only costs a line number, never the diagnosis.
pub fn read_script(file: &str) -> Option<String> {
    let path = file.strip_prefix("file://").unwrap_or(file);
    if file.starts_with("node:") || path.is_empty() {
        return None;
    }
    read_regular_file(Path::new(path), MAX_SOURCE)
}

/// Reads `path` as UTF-8 if it is a regular file (a link to one is fine) of at most `max`
/// bytes. Devices (`/dev/zero` never ends), FIFOs (a read waits for a writer forever),
/// folders and sockets are not opened, and the check is repeated on what was opened, in case
/// the path was replaced in between.
pub fn read_regular_file(path: &Path, max: u64) -> Option<String> {
    let fits = |m: &std::fs::Metadata| m.is_file() && m.len() <= max;
    if !fits(&std::fs::metadata(path).ok()?) {
        return None;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        // Opening a FIFO for reading waits for a writer, unless non-blocking; on a regular
        // file the flag changes nothing.
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).ok()?;
    if !fits(&file.metadata().ok()?) {
        return None;
    }
    // A file that grows while it is read stops at the limit too.
    let mut text = String::new();
    file.take(max + 1).read_to_string(&mut text).ok()?;
    (text.len() as u64 <= max).then_some(text)
}

/// How the program names a collection where it grows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receiver<'a> {
    /// A variable (`userCache`): the name, not after a `.`.
    Variable(&'a str),
    /// A property (`this.clients`, `state.sessions`, `exports.memo`): the name after a `.`
    /// (or, when no such use grows it, the bare name, as after `const { clients } = this`).
    Property(&'a str),
}

/// What to look for: the statement that inserts into a collection (or appends to a string).
#[derive(Debug, Clone, Copy)]
pub struct GrowthQuery<'a> {
    pub receiver: Receiver<'a>,
    /// Calls that grow it (`set`, `push`, `add`, …); `name[k] =`, `??=`, `||=`, `&&=` and
    /// `+=` always count.
    pub methods: &'a [&'a str],
    /// A position in the code that holds the collection, as the snapshot gives it. For a
    /// variable: a function that uses the scope holding it; the search is then limited to
    /// the block that declares the name around that function (the module when no block
    /// does). For a property: the constructor of the object that has it; its class or
    /// function body is searched first.
    pub near: Option<LineColumn>,
}

/// Where a collection is grown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrowthSite {
    /// The receiver's position (`cache` in `cache.set(`).
    pub at: LineColumn,
    /// The innermost named function around it (`track` for `const track = () => {…}`,
    /// a method's or function declaration's name), if any.
    pub function: Option<String>,
}

/// The place in `source` where the collection `q` describes is grown, as its receiver's
/// position: only code counts (not comments, strings or template text), and only uses that
/// resolve to the collection's own scope (a variable of the same name declared in another
/// function is another variable).
pub fn find_growth_site(source: &str, q: &GrowthQuery) -> Option<GrowthSite> {
    let lines = LineIndex::new(source);
    let code = Code::new(source);
    let near = q.near.and_then(|p| lines.offset(source, p));
    let at = match q.receiver {
        Receiver::Variable(name) => {
            // The declaring block of the name around `near`: `None` is the module.
            // Without a position, the first use that grows it anywhere.
            let scope = near.map(|off| code.declaring_block(code.enclosing_at(off), name));
            let range = scope
                .flatten()
                .map_or((0, code.t.len()), |b| code.block_range(b));
            (range.0..range.1).find(|&i| {
                code.grows_at(i, q, false)
                    && scope.is_none_or(|s| code.declaring_block(code.parent(i), name) == s)
            })
        }
        Receiver::Property(_) => {
            let body = near.and_then(|off| code.body_at(off));
            let find = |(from, to): (usize, usize)| {
                (from..to)
                    .find(|&i| code.grows_at(i, q, false))
                    .or_else(|| (from..to).find(|&i| code.grows_at(i, q, true)))
            };
            body.map(|b| code.block_range(b))
                .and_then(find)
                .or_else(|| find((0, code.t.len())))
        }
    }?;
    Some(GrowthSite {
        at: lines.position(source, code.t.list[at].start()),
        function: code.function_around(at).map(str::to_string),
    })
}

/// Where the variable `name` is declared: in the innermost block around `near` (a
/// function using it, as the snapshot gives it) that declares it, else at the top level.
pub fn find_declaration(source: &str, name: &str, near: Option<LineColumn>) -> Option<LineColumn> {
    let lines = LineIndex::new(source);
    let code = Code::new(source);
    let block = near
        .and_then(|p| lines.offset(source, p))
        .and_then(|off| code.declaring_block(code.enclosing_at(off), name))
        .unwrap_or(NO_BLOCK);
    let at = code.declaration(block, name)?;
    Some(lines.position(source, code.t.list[at].start()))
}

/// Line starts, to go between 1-based line/column (columns in UTF-16 units, as V8 and
/// source maps count them) and byte offsets.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    fn offset(&self, text: &str, p: LineColumn) -> Option<usize> {
        let start = *self.starts.get(p.line.checked_sub(1)? as usize)?;
        let line = text[start..].split('\n').next().unwrap_or("");
        let mut units = 0u32;
        for (i, c) in line.char_indices() {
            if units + 1 >= p.column {
                return Some(start + i);
            }
            units += c.len_utf16() as u32;
        }
        Some(start + line.len())
    }

    fn position(&self, text: &str, offset: usize) -> LineColumn {
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let column: usize = text[self.starts[line]..offset]
            .chars()
            .map(char::len_utf16)
            .sum();
        LineColumn {
            line: line as u32 + 1,
            column: column as u32 + 1,
        }
    }
}

/// A script's tokens with, for each, the innermost `{` around it: enough to know which
/// block (function body, class body, module) a use of a name is in.
struct Code<'a> {
    t: Tokens<'a>,
    /// Token → the innermost `{` (or `${`) containing it; `u32::MAX` at the top level
    /// (read through [`Code::parent`]).
    enclosing: Vec<u32>,
}

const NO_BLOCK: usize = usize::MAX;

/// Keywords that declare the name after them in the enclosing block.
const DECLARES: [&str; 5] = ["const", "let", "var", "function", "class"];

impl<'a> Code<'a> {
    fn new(text: &'a str) -> Code<'a> {
        let t = Tokens::new(text);
        let mut enclosing = Vec::with_capacity(t.len());
        let mut open: Vec<usize> = Vec::new();
        for i in 0..t.len() {
            // A closing brace belongs to its block; pop it only once it has been recorded
            // as inside, so the block's own tokens all name it.
            if open.last().is_some_and(|&b| t.partner(b) == Some(i)) {
                open.pop();
            }
            enclosing.push(open.last().map_or(u32::MAX, |&b| b as u32));
            if (t.is(i, "{") || t.is(i, "${")) && t.partner(i).is_some() {
                open.push(i);
            }
        }
        Code { t, enclosing }
    }

    /// The innermost block around token `i` (`NO_BLOCK` at the top level).
    fn parent(&self, i: usize) -> usize {
        match self.enclosing.get(i) {
            Some(&b) if b != u32::MAX => b as usize,
            _ => NO_BLOCK,
        }
    }

    /// The innermost block around byte `offset`.
    fn enclosing_at(&self, offset: usize) -> usize {
        self.parent(self.t.at_or_after(offset))
    }

    /// Tokens strictly inside block `b` (all of them for the module).
    fn block_range(&self, b: usize) -> (usize, usize) {
        if b == NO_BLOCK {
            return (0, self.t.len());
        }
        (b + 1, self.t.partner(b).unwrap_or(self.t.len()))
    }

    /// The innermost block, from `block` outwards, that declares `name` (in its own
    /// statements or its function's parameters); `None` when only the module can.
    fn declaring_block(&self, mut block: usize, name: &str) -> Option<usize> {
        while block != NO_BLOCK {
            if self.declares(block, name) {
                return Some(block);
            }
            block = self.parent(block);
        }
        None
    }

    fn declares(&self, block: usize, name: &str) -> bool {
        self.declaration(block, name).is_some()
    }

    /// The token that declares `name` in `block` (or the module), if it does.
    fn declaration(&self, block: usize, name: &str) -> Option<usize> {
        self.declared_in_statements(block, name)
            .or_else(|| self.declared_in_header(block, name))
    }

    /// `const|let|var|function|class name`, also later in a declaration list
    /// (`const a = 1, name = …`) or destructured (`const { name } = …`), at the block's
    /// own level.
    fn declared_in_statements(&self, block: usize, name: &str) -> Option<usize> {
        let t = &self.t;
        let (mut i, end) = self.block_range(block);
        let mut in_declaration = false;
        while i < end {
            if t.is(i, ";") {
                in_declaration = false;
            } else if ["const", "let", "var"].iter().any(|k| t.is_ident(i, k)) {
                in_declaration = true;
            } else if t.is_ident(i, name) {
                let prev = &t.str(i - 1);
                let declared =
                    DECLARES.contains(prev) || (in_declaration && *prev == "," && t.is(i + 1, "="));
                if declared && t.list[i - 1].kind != Kind::Literal {
                    return Some(i);
                }
            } else if t.is(i, "{") || t.is(i, "[") || t.is(i, "(") {
                let close = t.partner(i).unwrap_or(end);
                let destructures = ["const", "let", "var"].iter().any(|k| t.is_ident(i - 1, k));
                if let Some(at) = destructures.then(|| self.binds(i, close, name)).flatten() {
                    return Some(at);
                }
                i = close;
            }
            i += 1;
        }
        None
    }

    /// Whether the brackets `open..close` bind `name`: a parameter list, a destructuring
    /// pattern (`name` as an element, not a value after `:` or `=`).
    fn binds(&self, open: usize, close: usize, name: &str) -> Option<usize> {
        let t = &self.t;
        (open + 1..close).find(|&i| {
            t.is_ident(i, name)
                && ["(", ",", "{", "[", "...", "const", "let", "var"]
                    .iter()
                    .any(|p| t.is(i - 1, p))
                && [",", ")", "}", "]", "=", ":", "of", "in"]
                    .iter()
                    .any(|n| t.is(i + 1, n))
                // `{ key: name }` binds `name`; `{ name: alias }` binds `alias`.
                && !(t.is(i + 1, ":") && (t.is(i - 1, "(") || t.is(i - 1, "[")))
        })
    }

    /// The block's header: the function's parameters (`(a, name) {`, `name => {`,
    /// `(name) => {`), a `for (const name of …)` or `catch (name)`.
    fn declared_in_header(&self, block: usize, name: &str) -> Option<usize> {
        let t = &self.t;
        if block == NO_BLOCK {
            return None;
        }
        let mut before = block.checked_sub(1)?;
        if t.is(before, "=>") {
            let p = before.checked_sub(1)?;
            if t.is_ident(p, name) {
                return Some(p);
            }
            before = p;
        }
        if !t.is(before, ")") {
            return None;
        }
        let open = t.partner(before)?;
        let keyword = open.checked_sub(1).map(|k| t.str(k));
        match keyword {
            // Conditions name variables; they declare none.
            Some("if" | "while" | "switch" | "with") => None,
            // `for (name of list)` assigns; only `for (const name …)` declares.
            Some("for") => (open + 1..before).find(|&i| {
                t.is_ident(i, name) && ["const", "let", "var"].iter().any(|k| t.is(i - 1, k))
            }),
            _ => self.binds(open, before, name),
        }
    }

    /// The name of the innermost named function whose body holds token `i`: walking out
    /// through blocks, the first that is a function body with a name (anonymous callbacks
    /// are passed, so an insert in a `forEach` callback is named by the function around it).
    fn function_around(&self, i: usize) -> Option<&'a str> {
        let mut block = self.parent(i);
        while block != NO_BLOCK {
            if let Some(name) = self.function_name(block) {
                return Some(name);
            }
            block = self.parent(block);
        }
        None
    }

    /// The name of the function whose body is block `b`: `function name(…) {`, a method
    /// `name(…) {`, `name = function (…) {`, `name = (…) => {`, `name: (…) => {`.
    fn function_name(&self, b: usize) -> Option<&'a str> {
        let t = &self.t;
        let mut before = b.checked_sub(1)?;
        let arrow = t.is(before, "=>");
        let mut start = before; // the first token of the parameters
        if arrow {
            before = before.checked_sub(1)?;
            start = before;
        }
        if t.is(before, ")") {
            start = t.partner(before)?;
        } else if !arrow {
            return None;
        }
        let head = start.checked_sub(1)?;
        let is_name = |k: usize| t.list[k].kind == Kind::Ident;
        if !arrow && is_name(head) {
            let word = t.str(head);
            if ["if", "for", "while", "switch", "catch", "with"].contains(&word) {
                return None;
            }
            if word != "function" {
                return Some(word); // `function name(` or a method `name(`
            }
        }
        // An expression: named by what it is assigned to (`name =`, `name:`), after an
        // optional `function` and `async`.
        let mut k = head;
        if !arrow && t.is(k, "function") {
            k = k.checked_sub(1)?;
        }
        if t.is(k, "async") {
            k = k.checked_sub(1)?;
        }
        if (t.is(k, "=") || t.is(k, ":")) && k > 0 && is_name(k - 1) {
            return Some(t.str(k - 1));
        }
        None
    }

    /// The body of the function or class whose position (as V8 gives it: its parameter list,
    /// its name, or `class`) is at byte `offset`: the first `{` after the parameter list and
    /// anything up to it (`extends …`, `=>`).
    fn body_at(&self, offset: usize) -> Option<usize> {
        let t = &self.t;
        let mut i = t.at_or_after(offset);
        while i < t.len() {
            if t.is(i, "{") {
                return Some(i);
            }
            if t.is(i, "(") || t.is(i, "[") {
                i = t.partner(i)?;
            } else if t.is(i, ";") || t.is(i, ")") || t.is(i, "}") || t.is(i, "]") {
                return None;
            }
            i += 1;
        }
        None
    }

    /// Whether token `i` is the receiver of a statement that grows it: `name.m(` for one of
    /// the methods, `name[…] =` (or `??=`, `||=`, `&&=`), or `name +=`. A property must
    /// follow a `.` (unless `bare`); a variable must not.
    fn grows_at(&self, i: usize, q: &GrowthQuery, bare: bool) -> bool {
        let t = &self.t;
        let (name, property) = match q.receiver {
            Receiver::Variable(n) => (n, false),
            Receiver::Property(n) => (n, true),
        };
        if !t.is_ident(i, name) {
            return false;
        }
        let after_dot = i > 0 && (t.is(i - 1, ".") || t.is(i - 1, "?."));
        if after_dot != property && !bare {
            return false;
        }
        let j = i + 1;
        if t.is(j, ".") || t.is(j, "?.") {
            return q.methods.iter().any(|m| t.is_ident(j + 1, m)) && t.is(j + 2, "(");
        }
        if t.is(j, "[") {
            let Some(close) = t.partner(j) else {
                return false;
            };
            return ["=", "??=", "||=", "&&="]
                .iter()
                .any(|op| t.is(close + 1, op));
        }
        t.is(j, "+=")
    }
}

#[cfg(test)]
mod tests;
