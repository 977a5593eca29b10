//! Finding the line that adds to a growing collection or registers a listener, by reading
//! the script the snapshot names. The snapshot records where functions are defined, not
//! where a call happens; when a collection is named (`userCache`), the line that grows it is
//! the one that calls `userCache.set(` / `.push(` / `.add(` or assigns `userCache[…] =`.

use std::path::Path;

/// Scripts larger than this are not scanned (bundles are found through source maps).
const MAX_SOURCE: u64 = 8 << 20;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineColumn {
    pub line: u32,
    pub column: u32,
}

pub fn read_script(file: &str) -> Option<String> {
    let path = file.strip_prefix("file://").unwrap_or(file);
    if file.starts_with("node:") || path.is_empty() {
        return None;
    }
    let meta = std::fs::metadata(Path::new(path)).ok()?;
    if meta.len() > MAX_SOURCE {
        return None;
    }
    std::fs::read_to_string(path).ok()
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

    #[test]
    fn ignores_reads_comparisons_and_longer_names() {
        assert!(find_growth_call("if (userCache.get(1)) {}", "userCache", &["set"]).is_none());
        assert!(find_growth_call("if (cache[k] == 2) {}", "cache", &["set"]).is_none());
        assert_eq!(find_growth_call(SRC, "UserCache", &["push"]), None);
    }
}
