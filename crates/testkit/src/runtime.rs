//! The runtimes the tests run. `node` is the machine's (on PATH, Node 20 in CI); Node 24,
//! Bun, tsc and Chrome DevTools' heap snapshot code are installed into `.cache/runtimes` by
//! `scripts/install-runtimes.sh` (which `scripts/test` runs). A missing one is a failure,
//! not a skip: the test command installs them. Each can be overridden by an environment
//! variable.

use std::path::{Path, PathBuf};

use crate::repo_root;

/// The machine's `node` (`LEAKHUNT_NODE` overrides), as an absolute path when on PATH.
pub fn node() -> PathBuf {
    match std::env::var_os("LEAKHUNT_NODE") {
        Some(p) => PathBuf::from(p),
        None => on_path("node").unwrap_or_else(|| PathBuf::from("node")),
    }
}

/// Node 24 (`LEAKHUNT_NODE24` overrides).
pub fn node24() -> PathBuf {
    installed("LEAKHUNT_NODE24", "node24", ".bin/node", None)
}

/// Bun (`LEAKHUNT_BUN` overrides; a `bun` on PATH when none is installed).
pub fn bun() -> PathBuf {
    installed("LEAKHUNT_BUN", "bun", ".bin/bun", Some("bun"))
}

/// The TypeScript compiler (`LEAKHUNT_TSC` overrides).
pub fn tsc() -> PathBuf {
    installed("LEAKHUNT_TSC", "typescript", ".bin/tsc", None)
}

/// Folder whose node_modules holds Chrome DevTools' heap snapshot code (heap-snapshot-toolkit).
pub fn devtools_toolkit() -> PathBuf {
    let pkg = installed(
        "LEAKHUNT_DEVTOOLS_PKG",
        "devtools",
        "heap-snapshot-toolkit/package.json",
        None,
    );
    // …/devtools/node_modules/heap-snapshot-toolkit/package.json → …/devtools
    pkg.ancestors()
        .nth(3)
        .expect("inside node_modules")
        .to_path_buf()
}

/// The official SARIF 2.1.0 JSON schema, from npm `@microsoft/jest-sarif`
/// (`LEAKHUNT_SARIF_SCHEMA` overrides).
pub fn sarif_schema() -> PathBuf {
    installed(
        "LEAKHUNT_SARIF_SCHEMA",
        "sarif-schema",
        "@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json",
        None,
    )
}

/// `env` if set; else `.cache/runtimes/<dir>/node_modules/<file>`; else `fallback` on PATH.
fn installed(env: &str, dir: &str, file: &str, fallback: Option<&str>) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    let p = repo_root()
        .join(".cache/runtimes")
        .join(dir)
        .join("node_modules")
        .join(file);
    if p.exists() {
        return p;
    }
    if let Some(found) = fallback.and_then(on_path) {
        return found;
    }
    panic!(
        "{} is missing: run scripts/install-runtimes.sh (scripts/test does) or set {env}",
        p.display()
    )
}

/// `program` as found on PATH.
pub fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}
