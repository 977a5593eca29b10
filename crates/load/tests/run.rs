//! The runner against real Node servers (tests/fixtures/*.js).

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use common::runner::{lines, logged, options, run_quietly};
use common::{fixture, ClosedPort, Server};
use leakhunt_load::{
    parse_request_line, run, wait_until_accepting, RunError, RunOptions, RunStats, Scenario,
    MAX_CONCURRENCY,
};

#[test]
fn templating_fills_in_the_numbers_everywhere_and_rounds_replay_the_same_users() {
    let server = Server::start("app-server.js");
    let scenario = Scenario::parse(
        r#"
[[step]]
method = "POST"
path = "/record/json/{{i}}?q={{i}}"
json = { "user{{i}}" = { email = "u{{i}}@x.com", tags = ["t{{i}}", 1] } }
headers = { "x-trace" = "trace-{{seq}}" }
[[step]]
method = "PUT"
path = "/record/text/{{i}}"
body = "line {{i}}\nsecond {{ i }} line"
[[step]]
method = "PATCH"
path = "/record/csv"
body = "{{i}},{{ seq }}"
headers = { "Content-Type" = "text/csv" }
"#,
        "inline.toml",
    )
    .unwrap();
    // Two rounds of 5 users, as a hunt runs them: iterations 5..10 then 10..15.
    let first = run_quietly(&scenario, &options(&server.url(), 5..10, 3)).unwrap();
    let round_1 = logged(&server);
    let second = run_quietly(&scenario, &options(&server.url(), 10..15, 3)).unwrap();
    let round_2 = logged(&server)[round_1.len()..].to_vec();
    assert_eq!(
        (
            first.requests,
            second.requests,
            first.failed + second.failed
        ),
        (15, 15, 0)
    );

    for (seen, round_start) in [(round_1, 5), (round_2, 10)] {
        let mut seen = seen;
        seen.sort();
        let mut expected = Vec::new();
        for i in 0..5 {
            let seq = round_start + i;
            expected.push((
                "POST".to_owned(),
                format!("/record/json/{i}?q={i}"),
                Some(format!("trace-{seq}")),
                Some("application/json".to_owned()),
                format!(r#"{{"user{i}":{{"email":"u{i}@x.com","tags":["t{i}",1]}}}}"#),
            ));
            expected.push((
                "PUT".to_owned(),
                format!("/record/text/{i}"),
                None,
                Some("text/plain; charset=utf-8".to_owned()),
                format!("line {i}\nsecond {i} line"),
            ));
            expected.push((
                "PATCH".to_owned(),
                "/record/csv".to_owned(),
                None,
                Some("text/csv".to_owned()),
                format!("{i},{seq}"),
            ));
        }
        expected.sort();
        assert_eq!(seen, expected, "round starting at iteration {round_start}");
    }
}

#[test]
fn i_repeats_every_round_and_seq_never_does() {
    let server = Server::start("app-server.js");
    let scenario = lines(&[r#"POST /record/json/{{i}} {"seq":{{seq}}}"#]);
    let mut users_per_round = Vec::new();
    let mut seqs = Vec::new();
    let mut next = 0;
    for round_len in [7, 7, 7] {
        let opts = options(&server.url(), next..next + round_len, 3);
        next = opts.iterations.end;
        let before = logged(&server).len();
        assert_eq!(run_quietly(&scenario, &opts).unwrap().failed, 0);
        let round = logged(&server)[before..].to_vec();
        let mut users: Vec<String> = round.iter().map(|r| r.1.clone()).collect();
        users.sort();
        users_per_round.push(users);
        seqs.extend(round.iter().map(|r| r.4.clone()));
    }
    // The same 7 users every round...
    let users: Vec<String> = (0..7).map(|i| format!("/record/json/{i}")).collect();
    let mut sorted = users.clone();
    sorted.sort();
    assert_eq!(
        users_per_round,
        vec![sorted.clone(), sorted.clone(), sorted]
    );
    // ...and 21 sequence numbers, none twice.
    let distinct: std::collections::BTreeSet<&String> = seqs.iter().collect();
    assert_eq!((seqs.len(), distinct.len()), (21, 21), "{seqs:?}");
}

#[test]
fn each_iteration_has_its_own_cookie_jar() {
    let server = Server::start("app-server.js");
    let scenario = Scenario::from_file(fixture("login.toml")).unwrap();
    assert_eq!((scenario.iterations, scenario.concurrency), (200, 4));
    let calls = AtomicU64::new(0);
    let highest = AtomicU64::new(0);
    let opts = RunOptions::for_scenario(&scenario, &server.url(), 1000);
    assert_eq!(opts.iterations, 1000..1200);
    let stats = run(&scenario, &opts, &|done| {
        calls.fetch_add(1, Ordering::Relaxed);
        highest.fetch_max(done, Ordering::Relaxed);
    })
    .unwrap();
    // A cookie sent to the wrong user would be a 403, a missing one a 401 on the first
    // dashboard, a cookie kept after logout a 200 on the last one: all unexpected statuses.
    assert_eq!(stats.failed, 0, "{:?}", stats.errors);
    assert_eq!(stats.iterations, 200);
    assert_eq!(stats.requests, 800);
    assert_eq!(stats.by_status, BTreeMap::from([(200, 600), (401, 200)]));
    assert_eq!((calls.into_inner(), highest.into_inner()), (200, 200));
    assert_eq!(
        server.get_json("/_stats")["sessions"],
        0,
        "every session logged out"
    );
}

#[test]
fn cookies_do_not_leak_between_iterations() {
    // Without the login step, no iteration may carry a session cookie, even though the
    // same worker (and connection) ran a login just before.
    let server = Server::start("app-server.js");
    let logged_in = Scenario::from_file(fixture("login.toml")).unwrap();
    let mut scenario = logged_in.clone();
    scenario.steps.truncate(2);
    scenario.steps.remove(0); // dashboard only
    scenario.steps[0].expect_status = Some(401);
    let mut mixed = logged_in.clone();
    mixed.steps.truncate(2); // login + dashboard, no logout
    let url = server.url();
    let a = run_quietly(&mixed, &options(&url, 0..100, 2)).unwrap();
    let b = run_quietly(&scenario, &options(&url, 100..200, 2)).unwrap();
    assert_eq!(
        (a.failed, b.failed),
        (0, 0),
        "{:?} {:?}",
        a.errors,
        b.errors
    );
}

#[test]
fn unexpected_statuses_are_counted_not_fatal() {
    let server = Server::start("app-server.js");
    let mut scenario = lines(&["GET /status/500", "GET /hello", "GET /status/404"]);
    scenario.steps[0].expect_status = Some(200);
    scenario.steps[1].expect_status = Some(200);
    let stats = run_quietly(&scenario, &options(&server.url(), 0..50, 4)).unwrap();
    assert_eq!(stats.requests, 150);
    assert_eq!(
        stats.failed, 50,
        "no expect_status on /status/404: not a failure"
    );
    assert_eq!(
        stats.by_status,
        BTreeMap::from([(200, 50), (404, 50), (500, 50)])
    );
    assert_eq!(
        stats.errors,
        BTreeMap::from([(
            "unexpected status 500 at GET /status/500 (expected 200)".to_owned(),
            50
        )])
    );
    assert!(
        stats.summary_line().starts_with("150 requests in "),
        "{}",
        stats.summary_line()
    );
    assert!(
        stats.summary_line().contains(", 50 failed, p50 "),
        "{}",
        stats.summary_line()
    );
}

#[test]
fn a_run_where_everything_fails_is_an_error() {
    let server = Server::start("app-server.js");
    let mut scenario = lines(&["GET /status/503"]);
    scenario.steps[0].expect_status = Some(200);
    let err = run_quietly(&scenario, &options(&server.url(), 0..10, 2)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "every request failed: unexpected status 503 at GET /status/503 (expected 200)"
    );
    let RunError::AllFailed { stats, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!((stats.requests, stats.failed), (10, 10));
}

#[test]
fn connection_refused_names_the_service() {
    let closed = ClosedPort::new();
    let url = format!("http://127.0.0.1:{}", closed.port());
    let scenario = lines(&["GET /a", "POST /b {}"]);
    let err = run_quietly(&scenario, &options(&url, 0..20, 4)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("every request failed: connection refused ({url})")
    );
}

#[test]
fn protocol_edges() {
    let server = Server::start("raw-server.js");
    let scenario = lines(&[
        "GET /eof",
        "GET /interim",
        "GET /chunk-ext",
        "GET /split",
        "GET /http10",
        "GET /split",
    ]);
    let stats = run_quietly(&scenario, &options(&server.url(), 0..5, 2)).unwrap();
    assert_eq!(stats.failed, 0, "{:?}", stats.errors);
    assert_eq!(stats.by_status, BTreeMap::from([(200, 20), (201, 10)]));
}

#[test]
fn progress_counts_iterations() {
    let server = Server::start("trivial-server.js");
    let seen = Mutex::new(Vec::new());
    let stats = run(
        &lines(&["GET /"]),
        &options(&server.url(), 10..110, 4),
        &|done| seen.lock().unwrap().push(done),
    )
    .unwrap();
    let mut seen = seen.into_inner().unwrap();
    seen.sort();
    assert_eq!(seen, (1..=100).collect::<Vec<_>>());
    assert_eq!((stats.iterations, stats.requests), (100, 100));
    assert!(stats.requests_per_second > 0.0 && stats.latency.p50 > Duration::ZERO);
    assert!(stats.latency.p50 <= stats.latency.p90 && stats.latency.p90 <= stats.latency.p99);
    assert!(stats.latency.p99 <= stats.latency.max);
}

#[test]
fn concurrency_the_runner_cannot_run_is_refused_not_changed() {
    let scenario = lines(&["GET /"]);
    for asked in [0, MAX_CONCURRENCY + 1, 100_000] {
        let err = run_quietly(&scenario, &options("http://127.0.0.1:1", 0..10, asked)).unwrap_err();
        assert!(
            matches!(err, RunError::BadConcurrency(n) if n == asked),
            "{asked}: {err}"
        );
        assert!(err.to_string().contains("1 to 1024"), "{err}");
    }
}

#[test]
fn empty_ranges_and_bad_urls() {
    let scenario = lines(&["GET /"]);
    let stats = run_quietly(&scenario, &options("http://127.0.0.1:1", 5..5, 4)).unwrap();
    assert_eq!(stats, RunStats::default());
    let err = run_quietly(&scenario, &options("https://127.0.0.1:1", 0..1, 1)).unwrap_err();
    assert!(err.to_string().contains("https is not supported"), "{err}");
}

#[test]
fn waits_for_a_service_to_accept() {
    let server = Server::start("trivial-server.js");
    wait_until_accepting(("127.0.0.1", server.port), Duration::from_secs(60)).unwrap();
    let closed = ClosedPort::new();
    let err =
        wait_until_accepting(("127.0.0.1", closed.port()), Duration::from_millis(200)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    assert!(
        err.to_string()
            .starts_with("nothing accepted connections on 127.0.0.1:"),
        "{err}"
    );
    let err = leakhunt_load::wait_until_accepting_while(
        ("127.0.0.1", closed.port()),
        Duration::from_secs(10),
        || false,
    )
    .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Interrupted);
}

#[test]
fn one_liners_run() {
    let server = Server::start("app-server.js");
    let step = parse_request_line(r#"POST /api/login {"email":"user{{i}}@example.com"}"#).unwrap();
    let mut dashboard = parse_request_line("GET /api/dashboard").unwrap();
    dashboard
        .headers
        .push(("x-iter".into(), leakhunt_load::Template::new("{{i}}")));
    dashboard.expect_status = Some(200);
    let scenario = Scenario::new(vec![step, dashboard], 1, 1);
    let stats = run_quietly(&scenario, &options(&server.url(), 0..30, 3)).unwrap();
    assert_eq!(stats.failed, 0, "{:?}", stats.errors);
}

#[test]
fn a_stop_ends_the_requests_in_flight_at_once() {
    use std::sync::Arc;
    // A server that accepts and never answers: every request would wait out the timeout.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicU64::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for c in listener.incoming() {
            open.push(c);
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let scenario = lines(&["GET /"]);
    let mut opts = options(&url, 0..1000, 4);
    opts.timeout = Duration::from_secs(3600);
    let stop = Arc::new(leakhunt_load::Stop::new());
    let (tx, rx) = std::sync::mpsc::channel();
    let stopper = stop.clone();
    std::thread::spawn(move || {
        let _ = tx.send(leakhunt_load::run_until(
            &scenario,
            &opts,
            &|_| {},
            &stopper,
        ));
    });
    // All four virtual users are waiting for an answer.
    leakhunt_testkit::wait_until(Duration::from_secs(60), "four connections", || {
        accepted.load(Ordering::SeqCst) >= 4
    });
    stop.stop();
    let stats = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the run ended after the stop")
        .unwrap();
    assert_eq!(
        (stats.requests, stats.failed, stats.iterations),
        (0, 0, 0),
        "requests cut short by the stop are not counted"
    );
}
