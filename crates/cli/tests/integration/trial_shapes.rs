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
