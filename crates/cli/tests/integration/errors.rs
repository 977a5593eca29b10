//! Every command's errors: exit code 2 and exactly one line on stderr, said once.

use crate::support::*;

#[test]
fn each_command_says_its_error_once_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.heapsnapshot");
    let m = path_str(&missing);
    let report = dir.path().join("missing.json");
    let r = path_str(&report);
    let earlier = dir.path().join("earlier");
    std::fs::create_dir(&earlier).unwrap();
    std::fs::write(earlier.join("report.json"), "{}").unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["summary", m],
        vec!["retainers", m, "--id", "1"],
        vec!["diff", m, m],
        vec!["leaks", m, m, m],
        vec!["compare", r, r],
        vec!["snapshot", "--pid", "999999", "-o", m],
        vec!["hunt", "--request", "GET /", "--pid", "999999"],
        vec![
            "hunt",
            "--request",
            "GET /",
            "--",
            "leakhunt-no-such-command",
        ],
        vec![
            "hunt",
            "--request",
            "GET /",
            "--out",
            path_str(&earlier),
            "--",
            "node",
            "server.js",
        ],
        // Usage errors too, the way clap reports them.
        vec![
            "hunt",
            "--request",
            "GET /",
            "--iterations",
            "0",
            "--",
            "node",
            "x.js",
        ],
        vec!["summary"],
        vec!["sumary", m],
    ];
    for args in cases {
        // In a folder of its own: a hunt without --out works in the current directory.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_leakhunt"))
            .args(&args)
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(err.starts_with("leakhunt: error: "), "{args:?}: {err}");
        // Said once: the message is not its own cause repeated after a colon.
        let message = err.trim_end().trim_start_matches("leakhunt: error: ");
        let parts: Vec<&str> = message.split(": ").collect();
        for n in 1..=parts.len() / 2 {
            let tail = parts[parts.len() - n..].join(": ");
            let before = parts[parts.len() - 2 * n..parts.len() - n].join(": ");
            assert_ne!(tail, before, "{args:?}: said twice: {err}");
        }
    }
    // demo with no node on PATH.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .arg("demo")
        .env("PATH", dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
