//! GitHub Actions workflow commands: an `::error` annotation per suspect, which GitHub shows
//! on the file and line of a pull request's diff and in the run's summary. (The Markdown
//! report goes to `$GITHUB_STEP_SUMMARY`; that is the caller's file to append to.)
//!
//! Escaping follows GitHub's toolkit: in the message `%`, CR and LF are percent-encoded; in a
//! property value also `:` and `,`, which would otherwise end the value.

use std::fmt::Write;
use std::path::Path;

use leakhunt_findings::Suspect;

use crate::document::Findings;
use crate::spans::plain;
use crate::{prose, rules, setup, sources};

/// One `::error …::…` line per suspect. A location inside `workspace` (the repository,
/// `$GITHUB_WORKSPACE`) is given relative to it, as GitHub matches it against the diff; a
/// runtime module or a file elsewhere gets no `file`, so the annotation shows on the run only.
/// `cwd`: the directory the findings' relative paths start from.
pub fn annotations(f: &Findings, cwd: &Path, workspace: Option<&Path>) -> String {
    let mut out = String::new();
    for s in &f.leaks().suspects {
        out.push_str(&annotation(s, cwd, workspace.unwrap_or(cwd)));
        out.push('\n');
    }
    out
}

fn annotation(s: &Suspect, cwd: &Path, workspace: &Path) -> String {
    let mut props = Vec::new();
    if let Some(l) = s.location.as_ref().filter(|l| !l.is_runtime()) {
        if let Some(file) = sources::relative_to(cwd, &l.file, workspace) {
            props.push(format!("file={}", escape_property(&file)));
            if l.line >= 1 {
                props.push(format!("line={}", l.line));
                if l.column >= 1 {
                    props.push(format!("col={}", l.column));
                }
            }
        }
    }
    props.push(format!(
        "title={}",
        escape_property(&format!(
            "leakhunt: {} — {}",
            rules::title(s.pattern),
            s.class
        ))
    ));
    let mut message = setup::growth(s);
    if let Some(o) = &s.owner {
        let _ = write!(message, ", held by {}", prose::owner(o));
    }
    let _ = write!(
        message,
        "\n{}\nFix: {}",
        plain(&prose::explanation(s)),
        plain(&prose::fix(s))
    );
    format!("::error {}::{}", props.join(","), escape_data(&message))
}

/// A message: `%`, CR and LF encoded.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: as a message, plus `:` and `,`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_toolkit_does() {
        assert_eq!(escape_data("50% a\r\nb: c,d"), "50%25 a%0D%0Ab: c,d");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
