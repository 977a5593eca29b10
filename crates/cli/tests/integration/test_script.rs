//! `scripts/test`: a failure of the test run does not skip the doc tests, and the script
//! still fails. Run with a stand-in `cargo` that records what it is asked to do.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::support::*;

#[test]
fn the_doc_tests_run_after_a_failed_test_run_and_the_script_fails() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("cargo.log");
    let cargo = dir.path().join("cargo");
    std::fs::write(
        &cargo,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\ncase \"$*\" in\n  'nextest --version') exit 0 ;;\n  nextest*) exit 100 ;;\n  *--doc*) exit 0 ;;\nesac\nexit 3\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/test"))
        .env("PATH", path)
        .output()
        .unwrap();
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!out.status.success(), "a failed test run fails the script");
    assert!(
        calls.lines().any(|l| l.starts_with("nextest run")),
        "{calls}"
    );
    assert!(
        calls.lines().any(|l| l.contains("--doc")),
        "the doc tests ran anyway: {calls}"
    );
}
