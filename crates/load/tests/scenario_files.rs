//! Scenario files on disk: the documented example loads, and bad files give one-line
//! errors naming the file, the line and (inside a step) the step.

mod common;

use common::{fixture, scratch_dir};
use leakhunt_load::{Body, Scenario, DEFAULT_CONCURRENCY, DEFAULT_ITERATIONS};

/// Writes `text` to `<scratch>/scenario.toml` and loads it; the error as text, or "ok".
fn load(dir: &std::path::Path, text: &str) -> Result<Scenario, String> {
    let path = dir.join("scenario.toml");
    std::fs::write(&path, text).unwrap();
    Scenario::from_file(&path).map_err(|e| {
        let shown = e.to_string();
        assert!(!shown.contains('\n'), "error is not one line: {shown:?}");
        // Show the error as a user would see it: relative to the scratch directory.
        shown.replace(&format!("{}/", dir.display()), "")
    })
}

#[test]
fn the_readme_example_loads() {
    let dir = scratch_dir("readme");
    let s = load(
        &dir,
        r#"
iterations = 1000            # one iteration = one virtual user running all steps
concurrency = 4
base_url = "http://127.0.0.1:3000"   # optional; default given by the caller
[[step]]
method = "POST"
path = "/api/login"
json = { email = "user{{i}}@example.com", password = "password123" }
[[step]]
method = "GET"
path = "/api/dashboard"
expect_status = 200
[[step]]
method = "POST"
path = "/api/logout"
headers = { "x-trace" = "t{{seq}}" }   # a trace id never repeats
"#,
    )
    .unwrap();
    assert_eq!((s.iterations, s.concurrency, s.steps.len()), (1000, 4, 3));
    assert!(
        matches!(&s.steps[0].body, Some(Body::Json(t)) if t.render(3).contains("user3@example.com"))
    );
    let second_round_user_2 = leakhunt_load::Numbers { i: 2, seq: 1002 };
    assert_eq!(s.steps[2].headers[0].1.render(second_round_user_2), "t1002");

    let fixture = Scenario::from_file(fixture("login.toml")).unwrap();
    assert_eq!(fixture.steps.len(), 4);
}

#[test]
fn defaults_apply() {
    let dir = scratch_dir("defaults");
    let s = load(&dir, "[[step]]\npath = \"/health\"\n").unwrap();
    assert_eq!(
        (s.iterations, s.concurrency, s.base_url),
        (DEFAULT_ITERATIONS, DEFAULT_CONCURRENCY, None)
    );
    assert_eq!(s.steps[0].method, "GET");
}

#[test]
fn errors_point_at_file_and_line() {
    let dir = scratch_dir("errors");
    let head = "iterations = 10\nconcurrency = 2\n\n[[step]]\nmethod = \"POST\"\npath = \"/api/login\"\n\n[[step]]\n";
    let cases: &[(&str, &str)] = &[
        (
            "pth = \"/api/dashboard\"\n",
            "scenario.toml:9: step 2: unknown field 'pth' (expected one of method, path, json, body, headers, expect_status, timeout, capture)",
        ),
        ("method = \"GRAB\"\npath = \"/x\"\n", "scenario.toml:9: step 2: bad method 'GRAB' (expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)"),
        ("method = \"GET\"\n", "scenario.toml:8: step 2: missing path (e.g. path = \"/api/items\")"),
        ("path = \"api/dashboard\"\n", "scenario.toml:9: step 2: path must start with '/', got 'api/dashboard'"),
        (
            "path = \"/x\"\njson = { a = 1 }\n# a comment\nbody = \"raw\"\n",
            "scenario.toml:12: step 2: set either json or body, not both",
        ),
        ("path = \"/x\"\nexpect_status = 42\n", "scenario.toml:10: step 2: expect_status must be an HTTP status from 100 to 599, got 42"),
        ("path = \"/x\"\nexpect_status = \"ok\"\n", "scenario.toml:10: step 2: expect_status must be an HTTP status from 100 to 599, got \"ok\""),
        ("path = \"/x\"\nheaders = { \"bad header\" = \"1\" }\n", "scenario.toml:10: step 2: bad header name 'bad header'"),
    ];
    for (step, expected) in cases {
        assert_eq!(
            load(&dir, &format!("{head}{step}")).unwrap_err(),
            *expected,
            "step text:\n{step}"
        );
    }

    // Top-level problems: no step prefix.
    assert_eq!(
        load(&dir, "iterations = 0\n[[step]]\npath = \"/\"\n").unwrap_err(),
        "scenario.toml:1: iterations must be a positive integer, got 0"
    );
    assert_eq!(
        load(
            &dir,
            "# comment\n\nconcurrency = 0\n[[step]]\npath = \"/\"\n"
        )
        .unwrap_err(),
        "scenario.toml:3: concurrency must be an integer from 1 to 1024, got 0"
    );
    assert_eq!(
        load(&dir, "iterations = 5\nconcurency = 2\n[[step]]\npath = \"/\"\n").unwrap_err(),
        "scenario.toml:2: unknown field 'concurency' (expected one of iterations, concurrency, base_url, keep_alive, timeout, step)"
    );
    assert_eq!(
        load(&dir, "iterations = 5\n").unwrap_err(),
        "scenario.toml: no steps: add at least one [[step]] with a path"
    );

    // TOML syntax errors keep the toml crate's words, on one line, with our location.
    let syntax = load(&dir, "iterations = 5\n[[step]]\npath = \"/x\n").unwrap_err();
    assert!(syntax.starts_with("scenario.toml:3: "), "{syntax}");
    let syntax = load(&dir, "iterations = 5\n\n\n[[step]\npath = \"/x\"\n").unwrap_err();
    assert!(syntax.starts_with("scenario.toml:4: "), "{syntax}");
}

#[test]
fn a_missing_file_is_named() {
    let dir = scratch_dir("missing");
    let err = Scenario::from_file(dir.join("nope.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("nope.toml: cannot read: No such file or directory (os error 2)"),
        "{err}"
    );
}
