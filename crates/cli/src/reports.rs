//! The report files (`--html`, `--markdown`, `--sarif`) and, on GitHub Actions, the
//! annotations and the step summary: one call per command, after its terminal output.
//!
//! Files are written through `leakhunt-atomic-write`: a temporary name, then a rename, so a
//! symlink planted at the name is replaced, never followed, and a failed run leaves no half
//! file.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use leakhunt_printer::{github, html, markdown, sarif, Findings};

use crate::cli::ReportFiles;

/// Where the workflow commands go: stdout, unless it carries JSON (`--json`), which they
/// would corrupt; the Actions runner reads them from stderr too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Annotations {
    Stdout,
    Stderr,
}

/// Writes the requested files and, when running on GitHub Actions, the annotations and the
/// step summary.
pub fn write(files: &ReportFiles, findings: &Findings, annotations: Annotations) -> Result<()> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    if let Some(path) = &files.html {
        save(path, html::render(findings, &cwd).as_bytes())?;
    }
    let markdown = std::cell::OnceCell::new();
    let markdown = || markdown.get_or_init(|| markdown::render(findings));
    if let Some(path) = &files.markdown {
        save(path, markdown().as_bytes())?;
    }
    if let Some(path) = &files.sarif {
        save(path, sarif::render(findings, &cwd).as_bytes())?;
    }
    if let Some(gh) = GitHub::from_env() {
        let text = github::annotations(findings, &cwd, gh.workspace.as_deref());
        match annotations {
            Annotations::Stdout => crate::output::print_text(&text)?,
            Annotations::Stderr => eprint!("{text}"),
        }
        if let Some(summary) = &gh.step_summary {
            append(summary, markdown().as_bytes())?;
        }
    }
    Ok(())
}

/// What GitHub Actions tells a step through its environment.
struct GitHub {
    /// `$GITHUB_WORKSPACE`: the checkout, which annotation paths are relative to.
    workspace: Option<PathBuf>,
    /// `$GITHUB_STEP_SUMMARY`: a file whose Markdown shows on the run's page.
    step_summary: Option<PathBuf>,
}

impl GitHub {
    /// `Some` when `GITHUB_ACTIONS=true`, as the runner sets it.
    fn from_env() -> Option<GitHub> {
        if std::env::var_os("GITHUB_ACTIONS").is_none_or(|v| v != "true") {
            return None;
        }
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Some(GitHub {
            workspace: path("GITHUB_WORKSPACE"),
            step_summary: path("GITHUB_STEP_SUMMARY"),
        })
    }
}

fn save(path: &Path, bytes: &[u8]) -> Result<()> {
    leakhunt_atomic_write::write(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Appends to the step summary, which other steps write too, so it cannot be replaced by a
/// rename; a symlink at its name is refused rather than followed.
fn append(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot append to $GITHUB_STEP_SUMMARY {}", path.display()))?;
    // A blank line first: the summary may already end in another step's text.
    file.write_all(b"\n")
        .and_then(|()| file.write_all(bytes))
        .with_context(|| format!("cannot append to $GITHUB_STEP_SUMMARY {}", path.display()))
}
