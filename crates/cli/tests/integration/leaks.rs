//! `leakhunt leaks`: exit codes and the JSON other tools rely on.

use std::path::PathBuf;
use std::process::Command;

use crate::support::*;

fn ladder(fixture_name: &str, dir: &std::path::Path) -> Vec<String> {
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

#[test]
fn a_leak_exits_1_with_the_documented_json() {
    let dir = tempfile::tempdir().unwrap();
    let files = ladder("map-cache-leak.js", dir.path());
    let mut args = vec!["leaks"];
    args.extend(files.iter().map(String::as_str));
    args.push("--json");
    let out = leakhunt(&args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["verdict"], "leak");
    let s = &r["suspects"][0];
    assert_eq!(s["pattern"], "unbounded-collection");
    assert_eq!(s["class"], "UserProfile");
    for field in ["count_per_step", "bytes_per_step", "retained_bytes"] {
        assert!(s[field].as_f64().unwrap() > 0.0, "{field}");
    }
    let path: Vec<&str> = s["retainer_path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        path[0].starts_with("UserProfile @") && path.last() == Some(&"(GC roots)"),
        "{path:?}"
    );
    let loc = &s["location"];
    assert!(loc["file"].as_str().unwrap().ends_with("map-cache-leak.js"));
    assert!(loc["line"].as_u64().unwrap() > 0 && loc["column"].as_u64().unwrap() > 0);
    assert!(loc.get("function").is_some());
    assert!(
        !s["explanation"].as_str().unwrap().is_empty() && !s["fix"].as_str().unwrap().is_empty()
    );
}

#[test]
fn clean_exits_0_and_text_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let files = ladder("warmup-once.js", dir.path());
    let mut args = vec!["leaks"];
    args.extend(files.iter().map(String::as_str));
    let out = leakhunt(&args);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("No leak"));
}

#[test]
fn bad_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let files = ladder("warmup-once.js", dir.path());
    let out = leakhunt(&["leaks", &files[0], &files[1]]);
    assert_eq!(out.status.code(), Some(2), "two snapshots are too few");
    let missing = PathBuf::from(&files[0]).with_file_name("nope.heapsnapshot");
    let out = leakhunt(&["leaks", &files[0], &files[1], missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.heapsnapshot"));
}

#[test]
fn a_ladder_mixing_two_processes_is_refused() {
    // Two programs booting alike: the same ids handed out, different objects behind them.
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = ladder("map-cache-leak.js", a.path());
    let second = ladder("listener-leak.js", b.path());
    let out = leakhunt(&["leaks", &first[0], &first[1], &second[2]]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("one process") && err.lines().count() == 1,
        "{err}"
    );
}
