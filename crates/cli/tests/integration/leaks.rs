//! `leakhunt leaks`: exit codes and the JSON other tools rely on.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::*;

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
    // One representative path: the object, then each holder up to the one the GC roots hold.
    let path = &s["path"];
    assert_eq!(path["object"]["class"], "UserProfile", "{path}");
    assert!(path["object"]["id"].as_u64().is_some(), "{path}");
    let steps = path["steps"].as_array().unwrap();
    assert!(!steps.is_empty(), "{path}");
    for step in steps {
        for field in ["edge", "edge_type", "holder_id", "holder_class"] {
            assert!(!step[field].is_null(), "{field} in {step}");
        }
    }
    let loc = &s["location"];
    assert!(loc["file"].as_str().unwrap().ends_with("map-cache-leak.js"));
    assert!(loc["line"].as_u64().unwrap() > 0 && loc["column"].as_u64().unwrap() > 0);
    assert!(loc.get("function").is_some());
    assert_eq!(s["owner"]["kind"], "module-variable", "{s}");
    assert_eq!(s["owner"]["path"], "userCache", "{s}");
    assert_eq!(s["explanation"]["kind"], "unbounded-collection", "{s}");
    assert_eq!(s["explanation"]["collection_class"], "Map", "{s}");
    assert_eq!(r["schema_version"], 1);
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

/// The ladder with the script's path, as the snapshots name it, replaced by `path`.
fn renamed_script(files: &[String], script: &str, path: &Path, dir: &Path) -> Vec<String> {
    let from = serde_json::to_string(script).unwrap();
    let to = serde_json::to_string(path_str(path)).unwrap();
    files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let text = std::fs::read_to_string(f).unwrap();
            assert!(text.contains(&from), "{f} names {script}");
            let out = dir.join(format!("renamed{}.heapsnapshot", i + 1));
            std::fs::write(&out, text.replace(&from, &to)).unwrap();
            out.display().to_string()
        })
        .collect()
}

/// Runs `leakhunt args` with its address space capped at 4 GB (so a runaway read fails
/// instead of exhausting the machine) and a generous deadline; exit code and peak RSS in KiB.
fn run_bounded(args: &[String]) -> (Option<i32>, i64) {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leakhunt"));
    cmd.args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: setrlimit is async-signal-safe and touches only the child.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 4 << 30,
                rlim_max: 4 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    // Reaped below with wait4, which also gives its peak memory.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let mut result = None;
    let ended = poll_until(Duration::from_secs(60), || {
        let mut status = 0;
        // SAFETY: an all-zero rusage is valid; wait4 fills it.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: waiting for our own child.
        let done = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if done == pid {
            let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
            result = Some((code, usage.ru_maxrss));
        }
        result.is_some()
    });
    if !ended {
        let mut status = 0;
        // SAFETY: killing and reaping our own child.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, &mut status, 0);
        }
        panic!("leakhunt {args:?} still running after 60 s");
    }
    result.unwrap()
}

#[test]
fn scripts_named_in_snapshots_are_read_only_when_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    let script = repo_root().join("crates/diagnosis/tests/fixtures/map-cache-leak.js");
    let files = ladder("map-cache-leak.js", dir.path());
    let fifo = dir.path().join("script.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    for path in [Path::new("/dev/zero"), fifo.as_path()] {
        let renamed = renamed_script(&files, path_str(&script), path, dir.path());
        let mut args = vec!["leaks".to_string()];
        args.extend(renamed);
        let (code, peak_kib) = run_bounded(&args);
        assert_eq!(code, Some(1), "{}: the leak is still found", path.display());
        assert!(
            peak_kib < 512 << 10,
            "{}: {peak_kib} KiB (the snapshots are 4 MB)",
            path.display()
        );
    }
}
