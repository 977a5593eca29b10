//! `leakhunt hunt` against real Node services: each leaks one way (or not at all); the hunt
//! must name the pattern and the line marked `// LEAK:`, and leave no process behind.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;
use leakhunt_testkit::service::process_running;

pub(crate) fn service(name: &str) -> PathBuf {
    fixture("services").join(name)
}

/// The line a suspect's `location` names: where the leaked objects are made (`// ALLOC:`,
/// which allocation stacks find) when that is not the line that keeps them (`// LEAK:`).
pub(crate) fn leak_line(file: &Path) -> u64 {
    let text = std::fs::read_to_string(file).unwrap();
    let marked = |marker: &str| text.lines().position(|l| l.contains(marker));
    marked("// ALLOC:")
        .or_else(|| marked("// LEAK:"))
        .expect("a // LEAK: marker") as u64
        + 1
}

/// Long enough for the slowest machine; what these tests catch (a hang) lasts minutes.
const DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

pub(crate) struct Hunt {
    pub(crate) report: serde_json::Value,
    pub(crate) code: Option<i32>,
    pub(crate) service_pid: u32,
    pub(crate) stderr: String,
    _dir: tempfile::TempDir,
}

/// Runs `leakhunt hunt` with `args` on `command`, returning its JSON report.
pub(crate) fn hunt(args: &[&str], command: &[&str]) -> Hunt {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("service.pid");
    let json = dir.path().join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .arg("hunt")
        .args(args)
        .arg("--out")
        .arg(dir.path().join("out"))
        .arg("--json")
        .arg(&json)
        .arg("--")
        .args(command)
        .env("LEAKHUNT_TEST_PIDFILE", &pidfile)
        .env("NO_COLOR", "1")
        // A PORT of the user's is kept: the hunts running at once must each get their own.
        .env_remove("PORT")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = std::fs::read_to_string(&json)
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(serde_json::Value::Null);
    let service_pid = std::fs::read_to_string(&pidfile)
        .map(|p| p.trim().parse().unwrap())
        .unwrap_or(0);
    if service_pid != 0 {
        assert!(
            !process_running(service_pid),
            "the service (pid {service_pid}) outlived the hunt"
        );
    }
    Hunt {
        report,
        code: out.status.code(),
        service_pid,
        stderr,
        _dir: dir,
    }
}

fn assert_leak(h: &Hunt, pattern: &str, file: &Path) {
    assert_eq!(h.code, Some(1), "{}", h.stderr);
    assert_eq!(h.report["verdict"], "leak", "{}", h.stderr);
    let top = &h.report["suspects"][0];
    assert_eq!(top["pattern"], pattern, "{top:#}");
    let loc = &top["location"];
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(loc["file"].as_str().unwrap().ends_with(name), "{loc}");
    assert_eq!(loc["line"].as_u64().unwrap(), leak_line(file), "{loc}");
    // The report carries what the heap did.
    assert_eq!(h.report["heap_after_gc_bytes"].as_array().unwrap().len(), 3);
    assert!(h.report["growth_bytes_per_iteration"].as_f64().unwrap() > 0.0);
    assert!(h.report["runtime"].as_str().unwrap().starts_with("node v"));
    assert!(h.service_pid != 0, "the fixture recorded its pid");
}

#[test]
fn listener_added_per_login() {
    let file = service("listener-service.js");
    let h = hunt(
        &[
            "--request",
            r#"POST /login {"user":"u{{i}}"}"#,
            "--request",
            "POST /logout",
            "--iterations",
            "200",
        ],
        &["node", file.to_str().unwrap()],
    );
    assert_leak(&h, "event-listener", &file);
}

#[test]
fn interval_per_session() {
    let file = service("interval-service.js");
    let h = hunt(
        &[
            "--request",
            r#"POST /session {"user":"u{{i}}"}"#,
            "--iterations",
            "200",
        ],
        &["node", file.to_str().unwrap()],
    );
    assert_leak(&h, "timer", &file);
    let why = &h.report["suspects"][0]["explanation"];
    assert_eq!(why["repeats"], true, "a setInterval: {why}");
}

/// A cache keyed per user is per-user state once the users repeat: the same scenario keyed by
/// `{{i}}` (the same 200 users every round) is clean; keyed by `{{seq}}` (a new key every
/// iteration, below) it grows.
#[test]
fn a_cache_of_the_same_users_every_round_is_not_a_leak() {
    let file = service("cache-service.js");
    let h = hunt(
        &["--request", "GET /users/{{i}}", "--iterations", "200"],
        &["node", file.to_str().unwrap()],
    );
    assert_eq!(h.report["verdict"], "clean", "{:#}", h.report["suspects"]);
    assert_eq!(h.code, Some(0), "{}", h.stderr);
}

#[test]
fn cache_without_eviction() {
    let file = service("cache-service.js");
    let h = hunt(
        &["--request", "GET /users/{{seq}}", "--iterations", "200"],
        &["node", file.to_str().unwrap()],
    );
    assert_leak(&h, "unbounded-collection", &file);
    let top = &h.report["suspects"][0];
    assert_eq!(top["owner"]["path"], "profileCache");
    // The profile is made in loadProfile, called by the handler on the line that caches it.
    let frames = &top["allocation_stacks"][0]["frames"];
    assert_eq!(frames[0]["function"], "loadProfile", "{frames:#}");
    let text = std::fs::read_to_string(&file).unwrap();
    let set_line = text.lines().position(|l| l.contains("// LEAK:")).unwrap() as u64 + 1;
    assert_eq!(frames[1]["line"], set_line, "{frames:#}");
}

#[test]
fn kept_callback_capturing_a_report() {
    let file = service("closure-service.js");
    let h = hunt(
        &[
            "--request",
            r#"POST /export {"id":{{i}}}"#,
            "--iterations",
            "100",
        ],
        &["node", file.to_str().unwrap()],
    );
    assert_leak(&h, "closure-capture", &file);
}

#[test]
fn cache_that_plateaus_is_clean_and_passes_the_gate() {
    let file = service("clean-service.js");
    let h = hunt(
        &[
            "--request",
            "GET /items/{{i}}",
            "--iterations",
            "300",
            "--max-growth",
            "2KB",
        ],
        &["node", file.to_str().unwrap()],
    );
    assert_eq!(h.report["verdict"], "clean", "{:#}", h.report["suspects"]);
    assert_eq!(h.code, Some(0), "{}", h.stderr);
    assert_eq!(h.report["growth_gate"]["max_bytes_per_iteration"], 2000);
    assert_eq!(h.report["growth_gate"]["exceeded"], false);
}

#[test]
fn the_growth_gate_fails_a_leaky_service() {
    let file = service("cache-service.js");
    let h = hunt(
        &[
            "--request",
            "GET /users/{{seq}}",
            "--iterations",
            "200",
            "--max-growth",
            "1B",
        ],
        &["node", file.to_str().unwrap()],
    );
    assert_eq!(h.code, Some(1));
    assert!(h.stderr.contains("--max-growth"), "{}", h.stderr);
    assert_eq!(h.report["growth_gate"]["exceeded"], true);
}

/// A hunt of a service that gets a 10 KB Buffer per request, with a 2 KB growth gate.
fn buffer_hunt(name: &str) -> Hunt {
    let file = service(name);
    hunt(
        &[
            "--request",
            "POST /upload/{{i}}",
            "--iterations",
            "200",
            "--max-growth",
            "2KB",
        ],
        &["node", file.to_str().unwrap()],
    )
}

#[test]
fn buffers_kept_per_request_count_in_the_growth_and_trip_the_gate() {
    let h = buffer_hunt("buffer-service.js");
    let r = &h.report;
    // The backing stores are outside the JS heap: the growth counts heap used + external.
    assert_eq!(r["growth_gate"]["exceeded"], true, "{}", h.stderr);
    let growth = r["memory_growth_bytes_per_iteration"].as_f64();
    assert!(
        growth.is_some_and(|g| g >= 8192.0),
        "{growth:?}\n{}",
        h.stderr
    );
    assert_eq!(r["growth_gate"]["figure"], "heap_used_plus_external");
    assert_eq!(h.code, Some(1), "{}", h.stderr);
    let memory = r["memory_after_gc"].as_array().unwrap();
    assert_eq!(memory.len(), 3);
    let buffers = |i: usize| memory[i]["array_buffers_bytes"].as_u64().unwrap();
    assert!(buffers(2) >= buffers(0) + 2 * 200 * 8192, "{memory:?}");
    assert!(memory.iter().all(|m| m["rss_bytes"].as_u64().unwrap() > 0));
    // Most of it is native memory, and the report says so.
    assert_eq!(r["grows_outside_js_heap"], true);
    assert!(h.stderr.contains("--max-growth"), "{}", h.stderr);
}

#[test]
fn buffers_dropped_per_request_pass_the_gate() {
    let h = buffer_hunt("buffer-clean-service.js");
    let r = &h.report;
    assert_eq!(r["growth_gate"]["exceeded"], false, "{}", h.stderr);
    assert_eq!(r["verdict"], "clean", "{:#}", r["suspects"]);
    assert_eq!(h.code, Some(0), "{}", h.stderr);
    assert_eq!(r["memory_after_gc"].as_array().unwrap().len(), 3);
    assert_eq!(r["grows_outside_js_heap"], false);
}

#[test]
fn typescript_service_is_reported_in_its_ts_source() {
    let dir = tempfile::tempdir().unwrap();
    let ts = service("ts/listener-service.ts");
    let tsc = repo_root().join(".cache/runtimes/typescript/node_modules/.bin/tsc");
    assert!(
        tsc.exists(),
        "run scripts/install-runtimes.sh (scripts/test does)"
    );
    let status = Command::new(tsc)
        .args([
            "--sourceMap",
            "--target",
            "es2020",
            "--module",
            "commonjs",
            "--outDir",
        ])
        .arg(dir.path())
        .arg(&ts)
        .status()
        .unwrap();
    assert!(status.success());
    let js = dir.path().join("listener-service.js");
    let h = hunt(
        &["--request", "GET /u{{i}}", "--iterations", "200"],
        &["node", js.to_str().unwrap()],
    );
    assert_eq!(h.code, Some(1), "{}", h.stderr);
    let loc = &h.report["suspects"][0]["location"];
    assert!(
        loc["file"]
            .as_str()
            .unwrap()
            .ends_with("listener-service.ts"),
        "{loc}"
    );
    assert_eq!(loc["line"].as_u64().unwrap(), leak_line(&ts), "{loc}");
}

#[test]
fn compare_reports_a_fixed_leak_as_gone() {
    let leaky = service("cache-service.js");
    let clean = service("clean-service.js");
    let a = hunt(
        &["--request", "GET /users/{{seq}}", "--iterations", "200"],
        &["node", leaky.to_str().unwrap()],
    );
    let b = hunt(
        &["--request", "GET /items/{{i}}", "--iterations", "300"],
        &["node", clean.to_str().unwrap()],
    );
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (dir.path().join("a.json"), dir.path().join("b.json"));
    std::fs::write(&pa, a.report.to_string()).unwrap();
    std::fs::write(&pb, b.report.to_string()).unwrap();
    let c = leakhunt_json_any(&["compare", path_str(&pa), path_str(&pb), "--json"]);
    assert_eq!(c["verdict_before"], "leak");
    assert_eq!(c["verdict_after"], "clean");
    assert_eq!(c["suspects"][0]["change"], "gone");
}

/// Runs leakhunt and parses its JSON whatever the exit code.
fn leakhunt_json_any(args: &[&str]) -> serde_json::Value {
    let out = leakhunt(args);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn a_service_that_never_listens_is_an_error_naming_its_output_and_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("silent.js");
    std::fs::write(
        &script,
        "require('fs').writeFileSync(process.env.LEAKHUNT_TEST_PIDFILE, String(process.pid));\n\
         console.log('booting but never listening');\nsetInterval(() => {}, 1000);\n",
    )
    .unwrap();
    // A short readiness wait keeps the test quick.
    let h = hunt(
        &[
            "--request",
            "GET /",
            "--iterations",
            "1",
            "--ready-timeout",
            "2",
        ],
        &["node", script.to_str().unwrap()],
    );
    assert_eq!(h.code, Some(2), "{}", h.stderr);
    let last = h.stderr.trim_end().lines().last().unwrap();
    assert!(
        last.contains("did not accept connections") && last.contains("booting but never listening"),
        "{last}"
    );
}

#[test]
fn bad_scenario_files_give_one_line_with_the_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(
        &scenario,
        "iterations = 10\n\n[[step]]\nmethod = \"POST\"\npth = \"/login\"\n",
    )
    .unwrap();
    let out = leakhunt(&[
        "hunt",
        "--scenario",
        path_str(&scenario),
        "--",
        "node",
        "-e",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("scenario.toml:5") && err.contains("pth"),
        "{err}"
    );
}

#[test]
fn ctrl_c_stops_the_service() {
    let file = service("listener-service.js");
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("service.pid");
    let stderr = dir.path().join("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .args([
            "hunt",
            "--request",
            r#"POST /login {"user":"u{{i}}"}"#,
            "--iterations",
            "100000000",
            "--out",
        ])
        .arg(dir.path().join("out"))
        .args(["--", "node", file.to_str().unwrap()])
        .env("LEAKHUNT_TEST_PIDFILE", &pidfile)
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    // Once the hunt is in its load rounds (its log says so: stderr is not a terminal).
    wait_until(DEADLINE, "the warm-up to start", || {
        std::fs::read_to_string(&stderr).is_ok_and(|e| e.contains("Warm-up:"))
    });
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .expect("the service wrote its pid")
        .trim()
        .parse()
        .unwrap();
    assert!(process_running(pid));
    // What a terminal sends on Ctrl-C.
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    wait_until(DEADLINE, "the service to stop after Ctrl-C", || {
        !process_running(pid)
    });
}

#[test]
fn demo_finds_the_listener_leak_then_the_fix_clean() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .arg("demo")
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let example = repo_root().join("examples/realtime-dashboard/leaky/realtime.js");
    let line = leak_line_of(&example, "hub.on('broadcast'");
    assert!(
        text.contains(&format!("at leaky/realtime.js:{line}:")),
        "{text}"
    );
    assert!(text.contains("event-listener"), "{text}");
    assert!(text.contains("verdict: leak → clean"), "{text}");
    // The example ran in a temporary folder that is gone by now: not named.
    assert!(!text.contains("leakhunt-demo-"), "{text}");
}

fn leak_line_of(file: &Path, needle: &str) -> u64 {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() as u64 + 1
}

#[test]
fn a_gate_that_would_measure_nothing_is_refused() {
    let file = service("clean-service.js");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let base = [
        "hunt",
        "--request",
        "GET /items/{{i}}",
        "--max-growth",
        "1B",
        "--out",
        path_str(&out),
    ];
    for (flags, named) in [
        (&["--iterations", "0"][..], "--iterations"),
        (&["--concurrency", "0"][..], "--concurrency"),
        (&["--concurrency", "100000"][..], "--concurrency"),
        (&["--rounds", "1"][..], "--rounds"),
    ] {
        let mut args = base.to_vec();
        args.extend(flags);
        if flags[0] != "--iterations" {
            args.extend(["--iterations", "20"]);
        }
        args.extend(["--", "node", file.to_str().unwrap()]);
        let out = leakhunt(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{flags:?}: {err}");
        assert!(err.contains(named), "{flags:?}: {err}");
    }
    assert!(!out.exists(), "refused before anything was written");
}

#[test]
fn rounds_count_the_load_rounds_after_the_warm_up() {
    let file = service("clean-service.js");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = leakhunt(&[
        "hunt",
        "--request",
        "GET /items/{{i}}",
        "--iterations",
        "100",
        "--warmup",
        "200",
        "--rounds",
        "3",
        "--out",
        path_str(&dir.path().join("out")),
        "--json",
        path_str(&json),
        "--",
        "node",
        file.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("a warm-up of 200 iterations, then 3 rounds of 100 iterations × 1 request"),
        "{stdout}"
    );
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(r["rounds"], 3);
    assert_eq!(r["heap_after_gc_bytes"].as_array().unwrap().len(), 4);
    let load = r["load"].as_array().unwrap();
    let iterations: Vec<u64> = load
        .iter()
        .map(|l| l["iterations"].as_u64().unwrap())
        .collect();
    assert_eq!(iterations, [200, 100, 100, 100], "the warm-up first");
    assert_eq!(r["iterations"], 300);
}

#[test]
fn compare_refuses_a_report_of_another_layout_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // What hunt --json wrote before reports had a schema_version: sentences, not facts.
    let old = dir.path().join("old.json");
    std::fs::write(
        &old,
        r#"{"verdict":"leak","snapshots":[],"steps":2,"suspects":[{"pattern":"timer","explanation":"Every step…"}]}"#,
    )
    .unwrap();
    let newer = dir.path().join("newer.json");
    std::fs::write(&newer, r#"{"schema_version":99,"suspects":[]}"#).unwrap();
    for (file, says) in [(&old, "older leakhunt"), (&newer, "layout 99")] {
        let out = leakhunt(&["compare", path_str(file), path_str(file)]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(path_str(file)) && err.contains(says), "{err}");
    }
}
