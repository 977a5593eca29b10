//! `leakhunt snapshot` on a running Node process that was started without the inspector.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::*;

#[test]
fn snapshot_by_pid_writes_a_private_complete_file() {
    let _port = leakhunt_testkit::ports::inspector_port_9229();
    let dir = tempfile::tempdir().unwrap();
    let mut node = Service::spawn(
        Command::new(node())
            .args([
                "-e",
                "globalThis.kept = new Array(1000).fill('x'); setInterval(() => {}, 1000); console.log('READY')",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    // Once the main script runs, Node handles SIGUSR1 (before that the signal would kill it).
    node.wait_for_line(Duration::from_secs(60), "READY", |l| {
        (l == "READY").then_some(())
    });
    let file = dir.path().join("live.heapsnapshot");
    let out = leakhunt(&[
        "snapshot",
        "--pid",
        &node.pid().to_string(),
        "-o",
        path_str(&file),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "heaps hold secrets");
    let s = leakhunt_json(&["summary", path_str(&file), "--json", "--top", "0"]);
    assert!(s["totals"]["nodes"].as_u64().unwrap() > 1000);
    assert!(!dir.path().join("live.heapsnapshot.partial").exists());
}

#[test]
fn snapshot_of_a_dead_process_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = leakhunt(&[
        "snapshot",
        "--pid",
        "999999",
        "-o",
        path_str(&dir.path().join("x.heapsnapshot")),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("999999"));
}
