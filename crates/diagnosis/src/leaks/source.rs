//! Finding the line that adds to a growing collection or registers a listener, by reading
//! the script the snapshot names. The snapshot records where functions are defined, not
//! where a call happens; when a collection is named (`userCache`), the line that grows it is
//! the one that calls `userCache.set(` / `.push(` / `.add(` or assigns `userCache[…] =`.

use std::io::Read;
use std::path::Path;

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

/// The first place in `source` where `receiver` is grown: `receiver.m(` for one of
/// `methods`, `receiver[…] =` (not `==`), or `receiver +=`. Matches whole identifiers only.
pub fn find_growth_call(source: &str, receiver: &str, methods: &[&str]) -> Option<LineColumn> {
    for (i, line) in source.lines().enumerate() {
        let mut from = 0;
        while let Some(pos) = line[from..].find(receiver) {
            let at = from + pos;
            from = at + receiver.len();
            let before_ok = line[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '$'));
            if !before_ok {
                continue;
            }
            let rest = &line[at + receiver.len()..];
            let grows = methods.iter().any(|m| {
                rest.strip_prefix('.')
                    .and_then(|r| r.trim_start().strip_prefix(m))
                    .is_some_and(|r| r.trim_start().starts_with('('))
            }) || index_assignment(rest)
                || rest.trim_start().starts_with("+=");
            if grows {
                return Some(LineColumn {
                    line: i as u32 + 1,
                    column: at as u32 + 1,
                });
            }
        }
    }
    None
}

/// `[…] = value` (an assignment, not a comparison).
fn index_assignment(rest: &str) -> bool {
    let Some(inner) = rest.strip_prefix('[') else {
        return false;
    };
    let Some(close) = inner.find(']') else {
        return false;
    };
    let after = inner[close + 1..].trim_start();
    after.starts_with('=') && !after.starts_with("==")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "const userCache = new Map();\n\
                       function get(id) {\n  if (userCache.has(id)) return userCache.get(id);\n  \
                       userCache.set(id, load(id)); // grows\n}\n\
                       const sessions = {};\nfunction add(id) { sessions[id] = { id }; }\n\
                       const myUserCache = [];\nmyUserCache.push(1);\n";

    #[test]
    fn finds_the_call_that_grows_a_collection() {
        let at = find_growth_call(SRC, "userCache", &["set", "push", "add"]).unwrap();
        assert_eq!(at, LineColumn { line: 4, column: 3 });
        let at = find_growth_call(SRC, "sessions", &["set"]).unwrap();
        assert_eq!(at.line, 7);
    }

    #[test]
    fn finds_a_string_appended_to() {
        let src = "let auditLog = '';\nconst n = auditLog.length;\n  auditLog += line;\n";
        let at = find_growth_call(src, "auditLog", &[]).unwrap();
        assert_eq!(at, LineColumn { line: 3, column: 3 });
        assert_eq!(find_growth_call("auditLogs += 1", "auditLog", &[]), None);
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
        assert!(find_growth_call("if (userCache.get(1)) {}", "userCache", &["set"]).is_none());
        assert!(find_growth_call("if (cache[k] == 2) {}", "cache", &["set"]).is_none());
        assert_eq!(find_growth_call(SRC, "UserCache", &["push"]), None);
    }
}
