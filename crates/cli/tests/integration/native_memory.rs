//! Memory figures (issue 9): what the snapshots show of memory outside the JS heap, named by
//! holder, and a growth figure that V8's own code does not move.

use crate::hunt::{hunt, service, Hunt};
use crate::support::node24;

/// 200 requests a round, each getting a 10 kB Buffer.
fn buffer_hunt(name: &str) -> Hunt {
    let file = service(name);
    hunt(
        &["--request", "POST /upload/{{i}}", "--iterations", "200"],
        &["node", file.to_str().unwrap()],
    )
}

#[test]
fn buffers_kept_per_request_are_named_by_the_array_that_keeps_them() {
    let h = buffer_hunt("buffer-service.js");
    let native = &h.report["native_memory"];
    let top = &native[0];
    assert_eq!(top["held_as"], "uploads", "{native:#}");
    assert_eq!(top["holder"]["class"], "Array", "{native:#}");
    // Two rounds of 200 requests after the warm-up, one backing store each (the warm-up's
    // were there at the first snapshot).
    let count = top["count"].as_u64().unwrap();
    assert_eq!(count, 400, "{native:#}");
    assert!(
        top["bytes"].as_u64().unwrap() >= count * 10 * 1024,
        "{native:#}"
    );
}

#[test]
fn buffers_dropped_per_request_leave_no_native_holder() {
    let h = buffer_hunt("buffer-clean-service.js");
    assert!(h.report["native_memory"].is_null(), "{:#}", h.report);
    assert_eq!(h.report["verdict"], "clean");
    // V8's code is measured apart, and left out of the growth (see crates/hunt/src/memory.rs).
    for m in h.report["memory_after_gc"].as_array().unwrap() {
        let code = m["code_bytes"].as_u64().unwrap();
        assert!(
            code > 0 && code < m["heap_used_bytes"].as_u64().unwrap(),
            "{m}"
        );
    }
}

/// V8 compiles functions as they turn hot: on Node 24, heap used + external of a service that
/// keeps nothing grew about +430 B per iteration over a hunt, +350 B of it code and bytecode
/// (see crates/hunt/src/memory.rs). The gate counts the program's memory, not V8's code.
#[test]
fn code_compiled_during_the_hunt_does_not_trip_the_gate() {
    let file = service("buffer-clean-service.js");
    let node = node24();
    let h = hunt(
        &[
            "--request",
            "POST /upload/{{i}}",
            "--iterations",
            "200",
            "--max-growth",
            "256B",
        ],
        &[node.to_str().unwrap(), file.to_str().unwrap()],
    );
    let r = &h.report;
    assert_eq!(
        r["growth_gate"]["exceeded"], false,
        "{:#}",
        r["memory_after_gc"]
    );
    assert_eq!(h.code, Some(0), "{}", h.stderr);
}
