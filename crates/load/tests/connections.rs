//! Connections and deadlines against real Node servers: keep-alive, `Connection: close`,
//! reconnects, per-request timeouts, and values captured from one response for the next.

mod common;

use std::time::Duration;

use common::runner::{lines, logged, options, run_quietly};
use common::Server;
use std::collections::BTreeMap;

use leakhunt_load::{RunError, RunOptions, Scenario};

#[test]
fn connections_are_kept_alive_and_reused() {
    let server = Server::start("app-server.js");
    let scenario = lines(&[
        "GET /hello",
        "GET /chunked",
        "HEAD /hello",
        "GET /chunked-big",
        "GET /hello",
    ]);
    let stats = run_quietly(&scenario, &options(&server.url(), 0..60, 2)).unwrap();
    assert_eq!(stats.failed, 0, "{:?}", stats.errors);
    assert_eq!(stats.by_status, BTreeMap::from([(200, 300)]));
    assert_eq!(
        server.get_json("/_stats")["helloConnections"],
        2,
        "one connection per worker"
    );
    assert_eq!(stats.connections, 2);
}

#[test]
fn with_keep_alive_each_user_keeps_its_connection_across_runs() {
    let server = Server::start("app-server.js");
    let mut scenario = lines(&["GET /hello", "GET /chunked"]);
    scenario.keep_alive = true;
    let first = run_quietly(&scenario, &options(&server.url(), 0..20, 2)).unwrap();
    let second = run_quietly(&scenario, &options(&server.url(), 20..40, 2)).unwrap();
    assert_eq!(first.failed + second.failed, 0, "{:?}", second.errors);
    assert_eq!(first.connections, 2);
    assert_eq!(
        second.connections, 0,
        "the second run reuses the first's connections"
    );
    assert_eq!(server.get_json("/_stats")["helloConnections"], 2);
    // Without it, every run opens its own.
    scenario.keep_alive = false;
    let third = run_quietly(&scenario, &options(&server.url(), 40..60, 2)).unwrap();
    assert_eq!(third.connections, 2);
}

#[test]
fn connection_close_is_honoured() {
    let server = Server::start("app-server.js");
    let scenario = lines(&["GET /close", "GET /hello"]);
    let stats = run_quietly(&scenario, &options(&server.url(), 0..20, 1)).unwrap();
    assert_eq!(stats.failed, 0, "{:?}", stats.errors);
    let counts = server.get_json("/_stats");
    // Every /close ends its connection, so each /hello opens a new one and the next /close
    // reuses that (kept-alive) connection.
    assert_eq!(counts["closeConnections"], 20);
    assert_eq!(counts["helloConnections"], 20);
    assert_eq!(
        stats.connections, 21,
        "the first /close, then one per /hello"
    );
}

#[test]
fn a_connection_close_header_opens_a_fresh_connection_per_request() {
    let server = Server::start("app-server.js");
    let scenario = Scenario::parse(
        "[[step]]\npath = \"/hello\"\nheaders = { Connection = \"close\" }\n",
        "inline.toml",
    )
    .unwrap();
    let stats = run_quietly(&scenario, &options(&server.url(), 0..12, 2)).unwrap();
    assert_eq!(stats.failed, 0, "{:?}", stats.errors);
    assert_eq!(stats.connections, 12, "one connection per request");
    assert_eq!(server.get_json("/_stats")["helloConnections"], 12);
}

#[test]
fn idle_connections_closed_by_the_server_are_reopened() {
    // The server closes the connection right after each POST's response, without a
    // `Connection: close` (as an idle timeout does, but with no timer racing the client), so
    // every iteration after the first starts on a connection the server has closed.
    let server = Server::start("app-server.js");
    let scenario = lines(&["GET /hello", "POST /record/then-close {\"a\":1}"]);
    let stats = run_quietly(&scenario, &options(&server.url(), 0..4, 1)).unwrap();
    assert_eq!(stats.failed, 0, "{:?}", stats.errors);
    assert_eq!(server.get_json("/_stats")["helloConnections"], 4);
    assert_eq!(stats.connections, 4, "one new connection per iteration");
    assert_eq!(
        server.get_json("/_log").as_array().unwrap().len(),
        4,
        "each POST sent exactly once"
    );
}

#[test]
fn timeouts_and_dropped_connections_are_counted() {
    let server = Server::start("app-server.js");
    let scenario = lines(&["GET /slow", "GET /destroy", "GET /hello"]);
    let mut opts = options(&server.url(), 0..2, 2);
    opts.timeout = Duration::from_millis(300);
    let stats = run_quietly(&scenario, &opts).unwrap();
    assert_eq!((stats.requests, stats.failed), (6, 4));
    assert_eq!(
        stats.errors,
        BTreeMap::from([
            (
                "connection closed before the response ended at GET /destroy".to_owned(),
                2
            ),
            (
                "timeout at GET /slow (no complete response within 300 ms)".to_owned(),
                2
            ),
        ])
    );
    assert_eq!(stats.by_status, BTreeMap::from([(200, 2)]));
}

#[test]
fn responses_that_never_end_are_cut_at_the_timeout_and_counted() {
    let server = Server::start("app-server.js");
    let mut scenario = Scenario::parse(
        "timeout = \"300ms\"\n[[step]]\npath = \"/events\"\n[[step]]\npath = \"/park\"\ntimeout = \"200ms\"\n[[step]]\npath = \"/hello\"\n",
        "inline.toml",
    )
    .unwrap();
    scenario.iterations = 4;
    let opts = RunOptions::for_scenario(&scenario, &server.url(), 0);
    assert_eq!(opts.timeout, Duration::from_millis(300));
    let stats = run_quietly(&scenario, &opts).unwrap();
    assert_eq!((stats.requests, stats.timed_out, stats.failed), (12, 8, 8));
    assert_eq!(stats.by_status, BTreeMap::from([(200, 4)]));
    let named: Vec<(&str, Duration)> = stats
        .steps_mostly_timed_out()
        .map(|s| (s.label.as_str(), s.timeout))
        .collect();
    assert_eq!(
        named,
        [
            ("GET /events", Duration::from_millis(300)),
            ("GET /park", Duration::from_millis(200))
        ]
    );
    // Each timed-out request's connection was closed: the server let go of every one.
    leakhunt_testkit::wait_until(Duration::from_secs(30), "streams closed", || {
        server.get_json("/_open")["open"] == 0
    });
    // A scenario of nothing but requests that time out still runs: the service holds them.
    let only_events = Scenario::parse(
        "timeout = \"100ms\"\n[[step]]\npath = \"/events\"\n",
        "inline.toml",
    )
    .unwrap();
    let opts = RunOptions::for_scenario(&only_events, &server.url(), 0);
    let mut opts = opts;
    opts.iterations = 0..2;
    let stats = run_quietly(&only_events, &opts).unwrap();
    assert_eq!(stats.timed_out, 2);
}

#[test]
fn a_value_captured_from_a_response_is_sent_by_later_steps() {
    let server = Server::start("app-server.js");
    let scenario = Scenario::parse(
        r#"
[[step]]
method = "POST"
path = "/api/items"
capture = { item_id = "$.item.id" }
[[step]]
path = "/api/items/{{item_id}}"
expect_status = 200
[[step]]
path = "/record/{{item_id}}/{{i}}"
headers = { "x-trace" = "{{item_id}}" }
"#,
        "inline.toml",
    )
    .unwrap();
    let stats = run_quietly(&scenario, &options(&server.url(), 0..10, 3)).unwrap();
    assert_eq!(stats.failed, 0, "{:?}", stats.errors);
    assert_eq!(stats.by_status, BTreeMap::from([(200, 20), (201, 10)]));
    let mut seen: Vec<(String, Option<String>)> = logged(&server)
        .into_iter()
        .map(|(_, url, trace, _, _)| (url, trace))
        .collect();
    seen.sort();
    // Each user sent the id its own POST got back, in the path and in a header.
    assert_eq!(seen.len(), 10);
    for (url, trace) in seen {
        let id = trace.expect("the captured id in x-trace");
        assert!(id.starts_with("it-"), "{id}");
        assert!(url.starts_with(&format!("/record/{id}/")), "{url}");
    }
    // A path that finds nothing is a failure of that request, named.
    let missing = Scenario::parse(
        "[[step]]\nmethod = \"POST\"\npath = \"/api/items\"\ncapture = { id = \"$.id\" }\n",
        "inline.toml",
    )
    .unwrap();
    let stats = run_quietly(&missing, &options(&server.url(), 0..2, 1)).unwrap_err();
    let RunError::AllFailed { reason, .. } = stats else {
        panic!("{stats:?}")
    };
    assert_eq!(
        reason,
        "cannot capture at POST /api/items: id: no $.id in the response"
    );
}
