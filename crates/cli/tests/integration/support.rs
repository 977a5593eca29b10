//! Helpers shared by the integration tests: running the binary and reading its output.
//! Runtimes, cached fixture snapshots, waiting and service guards come from the test kit.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use leakhunt_testkit::runtime::{bun, devtools_toolkit, node, node24};
pub use leakhunt_testkit::{path_str, poll_until, repo_root, wait_until, Service};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// `dir/name`: a copy of the heap snapshot that `runtime tests/fixtures/<script> OUT` writes
/// (written once per test run, shared by every test that asks for it).
pub fn write_snapshot(runtime: &Path, script: &str, dir: &Path, name: &str) -> PathBuf {
    leakhunt_testkit::snapshots::snapshot_copy(runtime, &fixture(script), dir, name)
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

/// A ladder of 3 snapshots of one process, written into `dir` by one of the diagnosis
/// crate's fixture programs (`crates/diagnosis/tests/fixtures`).
pub fn ladder(fixture_name: &str, dir: &Path) -> Vec<String> {
    let script = repo_root()
        .join("crates/diagnosis/tests/fixtures")
        .join(fixture_name);
    leakhunt_testkit::snapshots::ladder_copy(&node(), &script, 3, dir)
        .iter()
        .map(|f| f.display().to_string())
        .collect()
}
