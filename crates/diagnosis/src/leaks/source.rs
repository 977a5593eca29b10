//! Finding the line that adds to a growing collection or registers a listener, by reading
//! the script the snapshot names. The snapshot records where functions are defined, not
//! where a call happens; when a collection is named (`userCache`), the line that grows it is
//! the one that calls `userCache.set(` / `.push(` / `.add(` or assigns `userCache[…] =`.

use std::io::Read;
use std::path::Path;

mod tokens;

use tokens::{Kind, Tokens};

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
mod tests {
    use super::*;

    const SRC: &str = "const userCache = new Map();\n\
                       function get(id) {\n  if (userCache.has(id)) return userCache.get(id);\n  \
                       userCache.set(id, load(id)); // grows\n}\n\
                       const sessions = {};\nfunction add(id) { sessions[id] = { id }; }\n\
                       const myUserCache = [];\nmyUserCache.push(1);\n";

    fn variable<'a>(name: &'a str, methods: &'a [&'a str]) -> GrowthQuery<'a> {
        GrowthQuery {
            receiver: Receiver::Variable(name),
            methods,
            near: None,
        }
    }

    fn near(q: GrowthQuery, line: u32, column: u32) -> GrowthQuery {
        GrowthQuery {
            near: Some(LineColumn { line, column }),
            ..q
        }
    }

    fn line_of(src: &str, q: GrowthQuery) -> Option<u32> {
        find_growth_site(src, &q).map(|s| s.at.line)
    }

    fn function_of(src: &str, q: GrowthQuery) -> Option<String> {
        find_growth_site(src, &q).and_then(|s| s.function)
    }

    #[test]
    fn names_the_function_around_the_insert() {
        let q = variable("clients", &["push"]);
        assert_eq!(function_of(NESTED, q).as_deref(), Some("register"));
        let q = variable("cache", &["set"]);
        assert_eq!(
            function_of(FACTORIES, near(q, 8, 22)).as_deref(),
            Some("put")
        );
        let cases = [
            ("const track = async (x) => { seen.add(x) }", Some("track")),
            (
                "const o = { keep: function (x) { seen.add(x) } }",
                Some("keep"),
            ),
            ("class A { remember(x) { seen.add(x) } }", Some("remember")),
            (
                "function load() { xs.forEach((x) => { seen.add(x) }) }",
                Some("load"),
            ),
            ("const f = x => { seen.add(x) }", Some("f")),
            ("if (a) { seen.add(1) }", None),
            ("seen.add(1)", None),
        ];
        for (src, want) in cases {
            let q = variable("seen", &["add"]);
            assert_eq!(function_of(src, q).as_deref(), want, "{src}");
        }
    }

    #[test]
    fn finds_the_call_that_grows_a_collection() {
        let site = find_growth_site(SRC, &variable("userCache", &["set", "push", "add"])).unwrap();
        assert_eq!(site.at, LineColumn { line: 4, column: 3 });
        assert_eq!(site.function.as_deref(), Some("get"));
        assert_eq!(line_of(SRC, variable("sessions", &["set"])), Some(7));
    }

    #[test]
    fn finds_a_string_appended_to() {
        let src = "let auditLog = '';\nconst n = auditLog.length;\n  auditLog += line;\n";
        let at = find_growth_site(src, &variable("auditLog", &[]))
            .unwrap()
            .at;
        assert_eq!(at, LineColumn { line: 3, column: 3 });
        assert_eq!(
            find_growth_site("auditLogs += 1", &variable("auditLog", &[])),
            None
        );
    }

    /// The collection's name in a comment, a string, a template and a reading function
    /// before the statement that grows it, in a function nested in another.
    const NESTED: &str = r#"// clients.push(socket) is done by register() below
const help = "call clients.push(x)";
const clients = [];
function count() { return `${clients.length} clients.push(` + clients.length; }
function makeServer() {
  return {
    open(socket) {
      function register() {
        clients.push(socket);
      }
      register();
    },
  };
}
"#;

    #[test]
    fn skips_comments_strings_and_readers() {
        let q = variable("clients", &["push"]);
        assert_eq!(line_of(NESTED, q), Some(9));
        // Positioned at `register` (a function using the module's scope): the same line.
        assert_eq!(line_of(NESTED, near(q, 8, 24)), Some(9));
    }

    /// Two factories each keep their own `cache`; the snapshot's function says which.
    const FACTORIES: &str = "function makeA() {\n  const cache = new Map();\n  \
        return (k) => cache.set(k, 1);\n}\n\
        function makeB(limit) {\n  const cache = new Map();\n  const get = (k) => cache.get(k);\n  \
        return function put(k, v) {\n    if (cache.size < limit) cache.set(k, v);\n  };\n}\n";

    #[test]
    fn searches_the_function_that_declares_the_variable() {
        let q = variable("cache", &["set"]);
        // `put`'s position (its parameter list) is in makeB: its insert, not makeA's.
        assert_eq!(line_of(FACTORIES, near(q, 8, 22)), Some(9));
        // `get`'s position in makeB also resolves to makeB's `cache`.
        assert_eq!(line_of(FACTORIES, near(q, 7, 15)), Some(9));
        // The arrow in makeA.
        assert_eq!(line_of(FACTORIES, near(q, 3, 10)), Some(3));
    }

    #[test]
    fn a_parameter_declares_the_variable() {
        let src = "function wrap(store) {\n  return { put(k) { store.set(k, 1) } };\n}\n\
                   const store = new Map();\nstore.set('module', 1);\n";
        let q = variable("store", &["set"]);
        assert_eq!(line_of(src, near(q, 2, 15)), Some(2));
        // A module-level function: the module's `store`, not the parameter of wrap().
        let src2 = format!("{src}function later() {{ store.set(2, 2) }}\n");
        assert_eq!(line_of(&src2, near(q, 6, 16)), Some(5));
    }

    #[test]
    fn a_local_variable_of_the_same_name_is_another_variable() {
        let src = "const seen = new Set();\nfunction local() {\n  const seen = [];\n  \
                   seen.push(1);\n}\nfunction track(id) {\n  seen.add(id);\n}\n";
        let q = variable("seen", &["add", "push"]);
        assert_eq!(line_of(src, near(q, 6, 15)), Some(7));
    }

    #[test]
    fn index_and_logical_assignments_grow() {
        let src = "const byUser = {};\nconst n = byUser[u] === 1;\nbyUser[u] ??= [];\n";
        assert_eq!(line_of(src, variable("byUser", &[])), Some(3));
        let src = "let m = {};\nif (m[k] == 1) {}\nm[key(k)] ||= 0;\n";
        assert_eq!(line_of(src, variable("m", &[])), Some(3));
        let src = "let m = {};\nm[k] = 1;\n";
        assert_eq!(line_of(src, variable("m", &[])), Some(2));
        let src = "let q = [];\nq\n  .unshift(job);\n";
        assert_eq!(line_of(src, variable("q", &["unshift"])), Some(2));
    }

    #[test]
    fn a_property_is_matched_after_a_dot_in_its_class() {
        let src = "class Pool {\n  constructor() { this.clients = new Set(); }\n  \
                   add(c) { this.clients.add(c); }\n}\n\
                   class Hub {\n  constructor() { this.clients = new Set(); }\n  \
                   join(c) {\n    const clients = [];\n    clients.push(c);\n    \
                   this.clients.add(c);\n  }\n}\n";
        let q = GrowthQuery {
            receiver: Receiver::Property("clients"),
            methods: &["add", "push"],
            near: Some(LineColumn { line: 5, column: 1 }),
        };
        assert_eq!(line_of(src, q), Some(10));
        // Without a position: the first `.clients` that grows, not the local array.
        assert_eq!(line_of(src, GrowthQuery { near: None, ..q }), Some(3));
        // `state.sessions[id] = …` in a module.
        let src = "const state = { sessions: {} };\nfunction login(id) {\n  \
                   state.sessions[id] = { id };\n}\n";
        let q = GrowthQuery {
            receiver: Receiver::Property("sessions"),
            methods: &[],
            near: None,
        };
        assert_eq!(line_of(src, q), Some(3));
    }

    #[test]
    fn positions_count_utf16_units() {
        let src = "const s = '😀'; const m = new Map(); m.set(1, 2);\n";
        let at = find_growth_site(src, &variable("m", &["set"])).unwrap().at;
        // '😀' is two UTF-16 units (four bytes).
        assert_eq!(at.column, 38);
    }

    #[test]
    fn finds_where_a_variable_is_declared() {
        let q = |near| find_declaration(FACTORIES, "cache", near).map(|at| at.line);
        assert_eq!(
            q(Some(LineColumn {
                line: 8,
                column: 22
            })),
            Some(6)
        );
        assert_eq!(
            q(Some(LineColumn {
                line: 3,
                column: 10
            })),
            Some(2)
        );
        let bundle = "// src/a.ts\nvar updates = new EventEmitter();\n// src/b.ts\n\
                      function open(id) { updates.on('x', () => id); }\n";
        let at = find_declaration(
            bundle,
            "updates",
            Some(LineColumn {
                line: 4,
                column: 14,
            }),
        );
        assert_eq!(at, Some(LineColumn { line: 2, column: 5 }));
        assert_eq!(find_declaration(bundle, "nothing", None), None);
        // A parameter.
        let src = "function wrap(store) {\n  return () => store.size;\n}\n";
        let at = find_declaration(
            src,
            "store",
            Some(LineColumn {
                line: 2,
                column: 10,
            }),
        );
        assert_eq!(
            at,
            Some(LineColumn {
                line: 1,
                column: 15
            })
        );
    }

    /// `read_script(path)` on a thread, with a generous deadline: a read that blocks fails
    /// the test instead of hanging it.
    fn read_within_a_minute(path: &Path) -> Option<String> {
        let (tx, rx) = std::sync::mpsc::channel();
        let path = path.to_str().unwrap().to_string();
        std::thread::spawn(move || tx.send(read_script(&path)));
        rx.recv_timeout(std::time::Duration::from_secs(60))
            .expect("read_script blocked")
    }

    #[test]
    #[cfg(unix)]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("app.js");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        assert_eq!(read_within_a_minute(&fifo), None, "a FIFO would block");
        assert_eq!(read_within_a_minute(dir.path()), None, "a folder");
        let script = dir.path().join("real.js");
        std::fs::write(&script, "cache.set(1, 2);\n").unwrap();
        let link = dir.path().join("link.js");
        std::os::unix::fs::symlink(&script, &link).unwrap();
        assert_eq!(
            read_within_a_minute(&link).as_deref(),
            Some("cache.set(1, 2);\n"),
            "a link to a script is fine"
        );
        let url = format!("file://{}", script.display());
        assert!(read_script(&url).is_some());
        // Too big to be a script someone wrote: not read (sparse, so the test stays cheap).
        let big = dir.path().join("bundle.js");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(MAX_SOURCE + 1)
            .unwrap();
        assert_eq!(read_within_a_minute(&big), None);
    }

    #[test]
    fn ignores_reads_comparisons_and_longer_names() {
        let q = |name| variable(name, &["set", "push"]);
        assert_eq!(line_of("if (userCache.get(1)) {}", q("userCache")), None);
        assert_eq!(line_of("if (cache[k] == 2) {}", q("cache")), None);
        assert_eq!(line_of(SRC, q("UserCache")), None);
    }
}
