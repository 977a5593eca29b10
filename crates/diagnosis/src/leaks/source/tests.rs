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
