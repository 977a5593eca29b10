//! The program's files as the reports point into them: a location's path relative to a
//! folder (the repository for GitHub, the working directory for SARIF), and the source lines
//! around a location for the HTML report.
//!
//! A location's `file` is relative to the directory leakhunt ran in when it is inside it,
//! absolute (or a `file://` URL) otherwise, or a runtime module (`node:events`).

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use leakhunt_findings::SourceLocation;

/// Lines shown above and below the marked line.
pub const CONTEXT_LINES: u32 = 3;

/// Source files bigger than this are not read for an excerpt (a bundle can be huge, and a
/// location may name something that is not a regular file).
const MAX_SOURCE_BYTES: u64 = 8 << 20;

/// The file as a path on this machine: `cwd`-relative paths joined to `cwd`, `file://` URLs
/// decoded; `None` for runtime modules and other URLs.
pub fn local_path(cwd: &Path, file: &str) -> Option<PathBuf> {
    if let Some(rest) = file.strip_prefix("file://") {
        // `file:///abs/path` (an empty host); percent escapes decoded.
        let path = rest.strip_prefix("localhost").unwrap_or(rest);
        return path
            .starts_with('/')
            .then(|| PathBuf::from(percent_decode(path)));
    }
    if file.is_empty() || has_scheme(file) || file.starts_with("internal/") {
        return None;
    }
    let p = Path::new(file);
    Some(if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    })
}

/// `file` relative to `base` when it is inside it, with `/` separators (`src/cache.js`);
/// `None` when it is elsewhere, a runtime module or a URL.
pub fn relative_to(cwd: &Path, file: &str, base: &Path) -> Option<String> {
    let path = normalize(&local_path(cwd, file)?);
    let rel = path.strip_prefix(normalize(base)).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// `.` and `..` resolved by text (the file need not exist; symlinks are not followed).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// `node:events`, `https://…`: a URL scheme of two letters or more (so `C:\x` is a path).
fn has_scheme(file: &str) -> bool {
    match file.split_once(':') {
        Some((scheme, _)) => {
            scheme.len() > 1
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap() * 16 + hex(l).unwrap()) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The lines around a location, for showing it in its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excerpt {
    /// The 1-based number of `lines[0]`.
    pub first: u32,
    pub lines: Vec<String>,
    /// The location's line (1-based).
    pub marked: u32,
}

/// The location's line with [`CONTEXT_LINES`] around it, when the file is a readable text
/// file of reasonable size on this machine that has that line; `None` otherwise (a report is
/// still useful without it).
pub fn excerpt(cwd: &Path, at: &SourceLocation) -> Option<Excerpt> {
    if at.line == 0 {
        return None;
    }
    let path = local_path(cwd, &at.file)?;
    let file = std::fs::File::open(&path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_SOURCE_BYTES {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_SOURCE_BYTES).read_to_end(&mut bytes).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let first = at.line.saturating_sub(CONTEXT_LINES).max(1);
    let lines: Vec<String> = text
        .lines()
        .skip(first as usize - 1)
        .take((at.line - first + 1 + CONTEXT_LINES) as usize)
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect();
    (lines.len() > (at.line - first) as usize).then_some(Excerpt {
        first,
        lines,
        marked: at.line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(file: &str, line: u32) -> SourceLocation {
        SourceLocation {
            file: file.into(),
            line,
            column: 1,
            function: None,
        }
    }

    #[test]
    fn paths_relative_to_a_folder() {
        let cwd = Path::new("/repo/service");
        let repo = Path::new("/repo");
        assert_eq!(
            relative_to(cwd, "src/a.js", repo).as_deref(),
            Some("service/src/a.js")
        );
        assert_eq!(
            relative_to(cwd, "../lib/b.js", repo).as_deref(),
            Some("lib/b.js")
        );
        assert_eq!(
            relative_to(cwd, "file:///repo/my%20dir/c.js", repo).as_deref(),
            Some("my dir/c.js")
        );
        assert_eq!(relative_to(cwd, "/elsewhere/d.js", repo), None);
        assert_eq!(relative_to(cwd, "node:events", repo), None);
        assert_eq!(relative_to(cwd, "https://x.test/e.js", repo), None);
    }

    #[test]
    fn excerpt_marks_the_line_and_stops_at_the_ends() {
        let dir = tempfile::tempdir().unwrap();
        let text: String = (1..=10).map(|i| format!("line {i}\n")).collect();
        std::fs::write(dir.path().join("a.js"), text).unwrap();
        let e = excerpt(dir.path(), &at("a.js", 2)).unwrap();
        assert_eq!((e.first, e.marked, e.lines.len()), (1, 2, 5));
        assert_eq!(e.lines[1], "line 2");
        let e = excerpt(dir.path(), &at("a.js", 10)).unwrap();
        assert_eq!((e.first, e.lines.len()), (7, 4));
        assert_eq!(excerpt(dir.path(), &at("a.js", 11)), None);
        assert_eq!(excerpt(dir.path(), &at("a.js", 0)), None);
        assert_eq!(excerpt(dir.path(), &at("missing.js", 1)), None);
        assert_eq!(excerpt(dir.path(), &at("node:events", 1)), None);
    }
}
