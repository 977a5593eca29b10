//! Shapes real services leak in (issue 9): each a real Node service hunted with the real
//! binary, with a fixed twin that must stay quiet. Small loads: the shape shows at every
//! step whatever the size.

use std::path::Path;

use crate::hunt::{hunt, leak_line, service, Hunt};
use crate::support::node24;

/// The top suspect, checked for its pattern and for the line marked `// LEAK:` in `file`.
fn top_suspect<'a>(h: &'a Hunt, pattern: &str, file: &Path) -> &'a serde_json::Value {
    assert_eq!(h.code, Some(1), "{}", h.stderr);
    let top = &h.report["suspects"][0];
    assert_eq!(top["pattern"], pattern, "{top:#}");
    let loc = &top["location"];
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(loc["file"].as_str().unwrap().ends_with(name), "{loc}");
    assert_eq!(loc["line"].as_u64().unwrap(), leak_line(file), "{loc}");
    top
}

fn assert_clean(h: &Hunt) {
    assert_eq!(h.code, Some(0), "{}\n{:#}", h.stderr, h.report["suspects"]);
    assert_eq!(h.report["verdict"], "clean");
}

fn node(file: &Path) -> [&str; 2] {
    ["node", file.to_str().unwrap()]
}

/// Retries with backoff and jitter: every pending retry has a duration of its own, so Node
/// files each in a timer list of its own, held by its timer map and its queue at once.
#[test]
fn retries_with_distinct_durations_are_pending_timeouts() {
    retries_are_pending_timeouts("node");
}

/// The same on Node 24, whose snapshots put the global object above both the timer map and
/// the queue (Node 20's leave only the roots above the lists): the lists are still the
/// map's growth, not entries of the global.
#[test]
fn retries_with_distinct_durations_are_pending_timeouts_on_node_24() {
    retries_are_pending_timeouts(node24().to_str().unwrap());
}

fn retries_are_pending_timeouts(node: &str) {
    let file = service("retry-service.js");
    let h = hunt(
        &[
            "--request",
            r#"POST /order {"id":"o{{seq}}","attempt":{{i}}}"#,
            "--iterations",
            "60",
        ],
        &[node, file.to_str().unwrap()],
    );
    let top = top_suspect(&h, "timer", &file);
    let why = &top["explanation"];
    assert_eq!(why["repeats"], false, "a setTimeout is no interval: {why}");
    assert_eq!(why["one_list_per_duration"], true, "{why}");
    // The bytes are the timeouts', their callbacks' and their orders', not the timer map's.
    let per_timer =
        top["bytes_per_step"].as_f64().unwrap() / top["count_per_step"].as_f64().unwrap();
    assert!(per_timer > 400.0, "{top:#}");
    assert_eq!(
        h.report["suspects"].as_array().unwrap().len(),
        1,
        "the timer queue is the same growth"
    );
}

/// The fixed twin: confirmed orders cancel their retry and clear their status poll.
#[test]
fn retries_cancelled_and_polls_cleared_are_clean() {
    let file = service("retry-clean-service.js");
    let h = hunt(
        &[
            "--request",
            r#"POST /order {"id":"o{{seq}}","attempt":{{i}}}"#,
            "--request",
            r#"POST /paid {"id":"o{{seq}}"}"#,
            "--iterations",
            "60",
        ],
        &node(&file),
    );
    assert_clean(&h);
}

/// Long-poll waiters `{ res, timer }` parked in a Map and never taken out once answered:
/// the records accumulate, each keeping a response, its request and its socket.
#[test]
fn parked_long_poll_waiters_keep_their_responses() {
    let file = service("longpoll-service.js");
    let h = hunt(
        &["--request", "GET /poll", "--iterations", "60"],
        &node(&file),
    );
    let top = top_suspect(&h, "retained-request", &file);
    let why = &top["explanation"];
    assert_eq!(why["record"]["property"], "res", "{why}");
    assert_eq!(why["record"]["class"], "ServerResponse", "{why}");
    assert_eq!(top["owner"]["path"], "waiters", "{top:#}");
}

/// The fixed twin deletes each waiter when it answers.
#[test]
fn answered_long_poll_waiters_deleted_are_clean() {
    let file = service("longpoll-clean-service.js");
    let h = hunt(
        &["--request", "GET /poll", "--iterations", "60"],
        &node(&file),
    );
    assert_clean(&h);
}

/// `emitter.on('user:' + id, fn)` at every login: the emitter gains event names, not
/// listeners under one name, and the fix says so.
#[test]
fn an_event_name_per_user_is_named_as_such() {
    let file = service("user-events-service.js");
    let h = hunt(
        &[
            "--request",
            r#"POST /login {"user":"u{{seq}}"}"#,
            "--iterations",
            "60",
        ],
        &node(&file),
    );
    let top = top_suspect(&h, "event-listener", &file);
    let why = &top["explanation"];
    assert_eq!(why["event_names_grow"], true, "{why}");
    assert!(why["event"].as_str().unwrap().starts_with("user:"), "{why}");
    assert_eq!(top["owner"]["path"], "notifications", "{top:#}");
}

/// Its fixed twin: one event for every user, the id in the payload.
#[test]
fn one_event_with_the_id_in_the_payload_is_clean() {
    let file = service("user-events-clean-service.js");
    let h = hunt(
        &[
            "--request",
            r#"POST /login {"user":"u{{i}}"}"#,
            "--request",
            r#"POST /logout {"user":"u{{i}}"}"#,
            "--iterations",
            "60",
        ],
        &node(&file),
    );
    assert_clean(&h);
}

/// Calls of an async function suspended forever at `await settings` (a promise nothing
/// settles): named, with the line they wait at.
#[test]
fn calls_suspended_on_a_promise_that_never_settles() {
    let file = service("pending-service.js");
    let h = hunt(
        &[
            "--request",
            r#"POST /action {"user":"u{{i}}","action":"a{{seq}}"}"#,
            "--iterations",
            "60",
        ],
        &node(&file),
    );
    let top = top_suspect(&h, "pending-promise", &file);
    assert_eq!(top["owner"]["path"], "settings", "{top:#}");
    let functions = top["explanation"]["functions"].as_array().unwrap();
    assert_eq!(functions[0]["function"], "recordAudit", "{functions:?}");
    assert_eq!(
        functions[0]["waits_at"]["line"].as_u64().unwrap(),
        leak_line(&file)
    );
    // Every call of the hunt is still waiting: warm-up and two rounds.
    assert_eq!(
        functions[0]["suspended"].as_u64().unwrap(),
        180,
        "{functions:?}"
    );
}

/// The fixed twin settles the promise at start-up.
#[test]
fn calls_whose_promise_settles_are_clean() {
    let file = service("pending-clean-service.js");
    let h = hunt(
        &[
            "--request",
            r#"POST /action {"user":"u{{i}}","action":"a{{seq}}"}"#,
            "--iterations",
            "60",
        ],
        &node(&file),
    );
    assert_clean(&h);
}

/// A listener added to `req.socket` per request: with `--keep-alive` each virtual user's
/// connection lives across rounds, and the listeners pile up on its socket.
#[test]
fn listeners_on_a_kept_alive_connection() {
    let file = service("socket-listener-service.js");
    let h = hunt(
        &[
            "--request",
            "GET /page/{{i}}",
            "--iterations",
            "60",
            "--concurrency",
            "2",
            "--keep-alive",
        ],
        &node(&file),
    );
    let top = top_suspect(&h, "event-listener", &file);
    let why = &top["explanation"];
    assert_eq!(why["emitter_class"], "Socket", "{why}");
    assert_eq!(why["event"], "close", "{why}");
}

/// The fixed twin listens on the response, which ends with its request.
#[test]
fn listeners_on_the_response_are_clean_with_keep_alive() {
    let file = service("socket-listener-clean-service.js");
    let h = hunt(
        &[
            "--request",
            "GET /page/{{i}}",
            "--iterations",
            "60",
            "--concurrency",
            "2",
            "--keep-alive",
        ],
        &node(&file),
    );
    assert_clean(&h);
}
