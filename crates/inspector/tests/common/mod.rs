//! Helpers shared by the integration tests (which all run real node processes).
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use leakhunt_inspector::{Forward, LaunchOptions, Launched, Target};

pub fn fixture(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    p.canonicalize().unwrap_or(p)
}

pub fn fixture_str(name: &str) -> String {
    fixture(name).to_string_lossy().into_owned()
}

// Each test file uses a different subset.
#[allow(unused_imports)]
pub use leakhunt_testkit::{poll_until, runtime::node24, service::signal, wait_until, Service};

pub fn cmd(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// The guardian program for launches from the tests (the test harness cannot be one).
pub fn guardian() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_leakhunt-guardian"))
}

/// Quiet launches: the service's output only lands in the tail.
pub fn quiet() -> LaunchOptions {
    LaunchOptions {
        forward: Forward::Discard,
        guardian: Some(guardian()),
        ..LaunchOptions::default()
    }
}

/// The test server, launched quietly and up: launch returns as soon as the inspector listens,
/// before Node has finished booting (`process.pid` and friends may still be undefined).
pub fn launch_server() -> Launched {
    let launched =
        Target::launch_with(&cmd(&["node", &fixture_str("server.js")]), &[], &quiet()).unwrap();
    launched
        .wait_for_output(|l| l.starts_with("LISTENING "), Duration::from_secs(60))
        .expect("server listening");
    launched
}

/// Waits until `pid` no longer runs (zombies count as gone); whether it went in time.
pub fn wait_gone(pid: u32, timeout: Duration) -> bool {
    poll_until(timeout, || !leakhunt_inspector::process_running(pid))
}

/// Checks that `path` holds one complete V8 heap snapshot with mode 0600.
pub fn check_snapshot_file(path: &Path) -> u64 {
    let meta = std::fs::metadata(path).expect("snapshot file exists");
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o600,
        "snapshot must be 0600"
    );
    let data = std::fs::read(path).unwrap();
    assert!(
        data.starts_with(br#"{"snapshot":{"meta""#),
        "bad start: {:?}",
        String::from_utf8_lossy(&data[..40.min(data.len())])
    );
    assert!(
        data.ends_with(b"]}"),
        "bad end: {:?}",
        String::from_utf8_lossy(&data[data.len().saturating_sub(40)..])
    );
    let head = String::from_utf8_lossy(&data[..data.len().min(4096)]);
    let at = head.find("\"node_count\":").expect("node_count in header") + "\"node_count\":".len();
    let n: u64 = head[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap();
    assert!(n > 0);
    let dir = path.parent().unwrap();
    let partial: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(partial.is_empty(), "partial file left behind: {partial:?}");
    n
}
