//! Helpers shared by the integration tests: finding runtimes, writing snapshots with them,
//! running the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The machine's `node` (Node 20 in CI).
pub fn node() -> PathBuf {
    PathBuf::from(std::env::var_os("LEAKHUNT_NODE").unwrap_or_else(|| "node".into()))
}

/// A runtime installed by `scripts/install-runtimes.sh`. Missing is a failure, not a skip:
/// the test command installs them.
fn installed(env: &str, dir: &str, file: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    let p = repo_root()
        .join(".cache/runtimes")
        .join(dir)
        .join("node_modules")
        .join(file);
    assert!(
        p.exists(),
        "{} is missing: run scripts/install-runtimes.sh (scripts/test does) or set {env}",
        p.display()
    );
    p
}

pub fn node24() -> PathBuf {
    installed("LEAKHUNT_NODE24", "node24", ".bin/node")
}

/// Folder whose node_modules holds Chrome DevTools' heap snapshot code (heap-snapshot-toolkit).
pub fn devtools_toolkit() -> PathBuf {
    let pkg = installed(
        "LEAKHUNT_DEVTOOLS_PKG",
        "devtools",
        "heap-snapshot-toolkit/package.json",
    );
    // …/devtools/node_modules/heap-snapshot-toolkit/package.json → …/devtools
    pkg.ancestors().nth(3).unwrap().to_path_buf()
}

pub fn bun() -> PathBuf {
    installed("LEAKHUNT_BUN", "bun", ".bin/bun")
}

/// Runs `runtime script out` and returns `out`, a freshly written heap snapshot.
pub fn write_snapshot(runtime: &Path, script: &str, dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    let status = Command::new(runtime)
        .arg(fixture(script))
        .arg(&out)
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", runtime.display()));
    assert!(
        status.success(),
        "{} {script} failed: {status}",
        runtime.display()
    );
    assert!(out.exists(), "{script} wrote no snapshot");
    out
}

pub fn leakhunt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run leakhunt")
}

/// Runs leakhunt, requires exit code 0, and parses its stdout as JSON.
pub fn leakhunt_json(args: &[&str]) -> serde_json::Value {
    let out = leakhunt(args);
    assert!(
        out.status.success(),
        "leakhunt {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

pub fn class<'a>(summary: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    summary["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["class"] == name)
        .unwrap_or_else(|| panic!("no class {name} in summary"))
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A ladder of 3 snapshots of one process, written into `dir` by one of the diagnosis
/// crate's fixture programs (`crates/diagnosis/tests/fixtures`).
pub fn ladder(fixture_name: &str, dir: &Path) -> Vec<String> {
    let script = repo_root()
        .join("crates/diagnosis/tests/fixtures")
        .join(fixture_name);
    let status = Command::new(node())
        .arg(&script)
        .arg(dir)
        .arg("3")
        .status()
        .unwrap();
    assert!(status.success());
    (1..=3)
        .map(|i| dir.join(format!("s{i}.heapsnapshot")).display().to_string())
        .collect()
}
