//! Output into a pipe whose reader is gone (`leakhunt … | head -1` after head exited): not an
//! error, and the verdict's exit code survives.

use std::process::{Command, Stdio};

use crate::support::*;

/// Runs leakhunt with stdout a pipe whose read end is already closed; exit code and stderr.
fn into_closed_pipe(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closing our end before leakhunt writes anything: its first write gets EPIPE. (It reads
    // and analyses snapshots first, far longer than this takes.)
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_pipe_keeps_every_commands_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let files = ladder("map-cache-leak.js", dir.path());
    let f: Vec<&str> = files.iter().map(String::as_str).collect();
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["leaks", f[0], f[1], f[2]], 1),
        (vec!["leaks", f[0], f[1], f[2], "--json"], 1),
        (vec!["summary", f[0]], 0),
        (vec!["summary", f[0], "--json"], 0),
        (vec!["retainers", f[2], "--class", "UserProfile"], 0),
        (
            vec!["retainers", f[2], "--class", "UserProfile", "--json"],
            0,
        ),
        (vec!["diff", f[0], f[2]], 0),
        (vec!["diff", f[0], f[2], "--json"], 0),
    ];
    for (args, code) in cases {
        let (got, stderr) = into_closed_pipe(&args);
        assert_eq!(got, Some(code), "{args:?}: {stderr}");
        assert!(
            stderr.is_empty(),
            "{args:?}: a closed pipe is no error: {stderr}"
        );
    }
}

#[test]
fn a_hunt_and_compare_into_a_closed_pipe_still_report_the_leak() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let service = fixture("services").join("cache-service.js");
    let out = dir.path().join("out");
    let (code, stderr) = into_closed_pipe(&[
        "hunt",
        "--request",
        "GET /users/{{seq}}",
        "--iterations",
        "200",
        "--out",
        path_str(&out),
        "--json",
        path_str(&json),
        "--",
        "node",
        path_str(&service),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
    let report = path_str(&json);
    for args in [
        vec!["compare", report, report],
        vec!["compare", report, report, "--json"],
    ] {
        let (code, stderr) = into_closed_pipe(&args);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}
