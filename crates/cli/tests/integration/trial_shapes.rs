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
    assert_eq!(top["location"]["line"].as_u64(), Some(leak_line(&file)), "{top:#}");
}

/// GET `path` on a fresh connection to 127.0.0.1:`port` (HTTP/1.0: the body unchunked, to
/// the end of the stream); the body.
fn get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n"
    )
    .unwrap();
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
    assert!(baseline > 100.0, "the cache grows: {baseline} B per request");
    let h = hunt(
        &[
            "--request",
            "GET /item/{{seq}}",
            "--iterations",
            "500",
        ],
        &node(&file),
    );
    assert_eq!(h.code, Some(1), "{}", h.stderr);
    let measured = h.report["growth_bytes_per_iteration"].as_f64().unwrap();
    assert!(
        measured < baseline * 1.5,
        "the hunt measured {measured:.0} B per iteration, the service alone grows {baseline:.0} B per request"
    );
    let top = &h.report["suspects"][0];
    assert_eq!(top["location"]["line"].as_u64(), Some(leak_line(&file)), "{top:#}");
}
