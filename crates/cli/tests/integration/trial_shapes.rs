//! What new users hit when they first ran `hunt` on services nobody here wrote: responses
//! that never end, a PORT of their own, one connection per request. Each a real Node service
//! hunted with the real binary.

use std::path::Path;

use crate::hunt::{hunt, leak_line, service};

fn node(file: &Path) -> [&str; 2] {
    ["node", file.to_str().unwrap()]
}

/// An event stream and a long poll that is never answered: each request ends at the request
/// timeout (its connection closed), is counted as timed out, and the hunt names both steps
/// and still finds the parked polls that pile up.
#[test]
fn requests_that_never_end_time_out_and_the_hunt_goes_on() {
    let file = service("trial/stream-service.js");
    let h = hunt(
        &[
            "--request",
            "GET /events",
            "--request",
            "GET /wait",
            "--request",
            "GET /ok",
            "--request-timeout",
            "200ms",
            "--iterations",
            "24",
            "--concurrency",
            "8",
            "--no-allocation-stacks",
        ],
        &node(&file),
    );
    assert_eq!(h.code, Some(1), "{}", h.stderr);
    let rounds = h.report["load"].as_array().unwrap();
    assert_eq!(rounds.len(), 3, "warm-up and two rounds");
    for round in rounds {
        assert_eq!(round["requests"], 72, "{round:#}");
        assert_eq!(round["timed_out"], 48, "{round:#}");
        let steps: Vec<&str> = round["timeouts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["step"].as_str().unwrap())
            .collect();
        assert_eq!(steps, ["GET /events", "GET /wait"], "{round:#}");
        assert_eq!(round["timeouts"][0]["timeout_ms"], 200);
    }
    assert!(
        h.stderr
            .contains("GET /wait: 24 of 24 requests timed out after 200 ms"),
        "{}",
        h.stderr
    );
    let top = &h.report["suspects"][0];
    assert_eq!(top["pattern"], "retained-request", "{top:#}");
    assert_eq!(
        top["location"]["line"].as_u64(),
        Some(leak_line(&file)),
        "{top:#}"
    );
}

/// GET `path` on a fresh connection to 127.0.0.1:`port` (HTTP/1.0: the body unchunked, to
/// the end of the stream); the body.
fn get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default()
}

/// What the async cache keeps per request when nothing is attached: the service's own
/// `process.memoryUsage().heapUsed` after GC, before and after `requests` new keys.
fn growth_per_request_unattached(file: &Path, requests: u64) -> f64 {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _service = leakhunt_testkit::Service::spawn(
        std::process::Command::new(leakhunt_testkit::runtime::node())
            .arg("--expose-gc")
            .arg(file)
            .env("PORT", port.to_string()),
    );
    leakhunt_testkit::wait_until(std::time::Duration::from_secs(60), "the service", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let heap = || -> f64 {
        let body: serde_json::Value = serde_json::from_str(&get(port, "/_heap")).unwrap();
        body["heapUsed"].as_f64().unwrap()
    };
    // Warm up as the hunt does, so the first measure is not of code being compiled.
    for i in 0..requests {
        get(port, &format!("/warm/{i}"));
    }
    let before = heap();
    for i in 0..requests {
        get(port, &format!("/item/{i}"));
    }
    (heap() - before) / requests as f64
}

/// A service caching a promise per request: the hunt must measure what the service keeps
/// when nothing watches it. With the Debugger domain on, V8 links each cached promise to
/// the handler awaiting it, and the heap kept several times as much per request.
#[test]
fn the_hunt_measures_an_async_cache_as_it_runs_unwatched() {
    let file = service("trial/async-cache-service.js");
    let baseline = growth_per_request_unattached(&file, 500);
    assert!(
        baseline > 100.0,
        "the cache grows: {baseline} B per request"
    );
    let h = hunt(
        &["--request", "GET /item/{{seq}}", "--iterations", "500"],
        &node(&file),
    );
    assert_eq!(h.code, Some(1), "{}", h.stderr);
    let measured = h.report["growth_bytes_per_iteration"].as_f64().unwrap();
    assert!(
        measured < baseline * 1.5,
        "the hunt measured {measured:.0} B per iteration, the service alone grows {baseline:.0} B per request"
    );
    let top = &h.report["suspects"][0];
    assert_eq!(
        top["location"]["line"].as_u64(),
        Some(leak_line(&file)),
        "{top:#}"
    );
}

/// A Node process that keeps something every few milliseconds, started without the
/// inspector (`leakhunt snapshot --pid` turns it on).
fn growing_process() -> leakhunt_testkit::Service {
    let mut node = leakhunt_testkit::Service::spawn(
        std::process::Command::new(leakhunt_testkit::runtime::node())
            .args([
                "-e",
                "globalThis.kept = []; setInterval(() => kept.push({ at: Date.now(), pad: 'x'.repeat(200) + kept.length }), 2); console.log('READY')",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null()),
    );
    // Once the main script runs, Node handles SIGUSR1 (before that the signal would kill it).
    node.wait_for_line(std::time::Duration::from_secs(60), "READY", |l| {
        (l == "READY").then_some(())
    });
    node
}

/// Snapshots taken by separate `leakhunt snapshot` calls number the same objects anew (V8
/// forgets its ids when an inspector session ends): `leaks` refuses them and says how to take
/// comparable ones; `--count` takes them in one session, and `leaks` reads those.
#[test]
fn several_snapshots_in_one_session_can_be_compared() {
    use crate::support::{leakhunt, path_str};
    let _port = leakhunt_testkit::ports::inspector_port_9229();
    let dir = tempfile::tempdir().unwrap();
    let node = growing_process();
    let pid = node.pid().to_string();

    let apart: Vec<String> = (1..=3)
        .map(|n| {
            let file = dir.path().join(format!("apart-{n}.heapsnapshot"));
            let out = leakhunt(&["snapshot", "--pid", &pid, "-o", path_str(&file)]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            file.display().to_string()
        })
        .collect();
    let out = leakhunt(&["leaks", &apart[0], &apart[1], &apart[2]]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("do not come from one process"), "{stderr}");
    assert!(stderr.contains("snapshot --count 3"), "says how: {stderr}");

    let out = leakhunt(&[
        "snapshot",
        "--pid",
        &pid,
        "--count",
        "3",
        "--every",
        "500ms",
        "-o",
        path_str(&dir.path().join("one.heapsnapshot")),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let together: Vec<String> = (1..=3)
        .map(|n| {
            dir.path()
                .join(format!("one-{n}.heapsnapshot"))
                .display()
                .to_string()
        })
        .collect();
    assert!(
        stderr.contains(&format!("leakhunt leaks {}", together.join(" "))),
        "{stderr}"
    );
    let out = leakhunt(&["leaks", "--json", &together[0], &together[1], &together[2]]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a leak found: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "leak", "{report:#}");
}

/// A `PORT` the user set is the service's port: the hunt sends its requests there rather
/// than give the service a port of its own choosing.
#[test]
fn a_port_set_by_the_user_is_kept() {
    let file = service("trial/stream-service.js");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .args(["hunt", "--request", "GET /ok", "--iterations", "20"])
        .arg("--out")
        .arg(dir.path().join("out"))
        .arg("--")
        .args(node(&file))
        .env("PORT", port.to_string())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("serving at http://127.0.0.1:{port}")),
        "{stderr}"
    );
}

/// On a terminal the status line says how far the warm-up and each round got, so a slow
/// round shows it is moving. (Run under `script`, which gives the hunt a terminal.)
#[test]
fn progress_on_a_terminal_counts_the_warm_up_iterations() {
    let Some(script) = leakhunt_testkit::runtime::on_path("script") else {
        eprintln!("skipped: no `script` to give the hunt a terminal");
        return;
    };
    let file = service("trial/stream-service.js");
    let dir = tempfile::tempdir().unwrap();
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let command = [
        env!("CARGO_BIN_EXE_leakhunt"),
        "hunt",
        "--request",
        "GET /wait",
        "--request-timeout",
        "100ms",
        "--iterations",
        "12",
        "--concurrency",
        "1",
        "--no-allocation-stacks",
        "--out",
        dir.path().join("out").to_str().unwrap(),
        "--",
        "node",
        file.to_str().unwrap(),
    ]
    .map(quote)
    .join(" ");
    let out = std::process::Command::new(script)
        .args(["-qec", &command, "/dev/null"])
        .env("NO_COLOR", "1")
        .env_remove("PORT")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(
        (0..=12).any(|n| screen.contains(&format!("Warm-up: {n} / 12 iterations"))),
        "{screen}"
    );
}
