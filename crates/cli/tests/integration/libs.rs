//! `leakhunt hunt` on services that leak through real npm libraries, the way the libraries'
//! users reported it (crates/cli/tests/fixtures/libs: each folder pins the versions,
//! `scripts/install-test-libs.sh` installs them into .cache/libs). Each leaky service marks
//! the line that registers something per request with `// LEAK:`; the hunt must name the
//! pattern, the place and a fix that fits how the library is meant to be used. The fixed
//! twins register once (or create per request) and must come out clean.
//!
//! Where the line is the library's today (a library's collection of objects the program
//! creates: no closure of the program on the path), allocation stacks will give the
//! program's line as `location` and the library's as `library_location`; the assertions
//! marked "stacks:" tighten then.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;
use leakhunt_testkit::service::process_running;

struct Hunt {
    report: serde_json::Value,
    /// What the terminal shows: the explanation and the fix in words.
    text: String,
    code: Option<i32>,
    stderr: String,
    _dir: tempfile::TempDir,
}

fn fixture_file(case: &str, file: &str) -> PathBuf {
    fixture("libs").join(case).join(file)
}

/// The case's installed libraries: a failure, not a skip, when missing (the test command
/// installs them).
fn node_modules(case: &str) -> PathBuf {
    let dir = repo_root()
        .join(".cache/libs")
        .join(case)
        .join("node_modules");
    assert!(
        dir.is_dir(),
        "{} is missing: run scripts/install-test-libs.sh (scripts/test does)",
        dir.display()
    );
    dir
}

/// One hunt of `case/file` with a scenario of one request, 150 iterations a round.
fn hunt(case: &str, file: &str, request: &str) -> Hunt {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("service.pid");
    let json = dir.path().join("report.json");
    let script = fixture_file(case, file);
    let out = Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .args(["hunt", "--request", request, "--iterations", "150"])
        .arg("--out")
        .arg(dir.path().join("out"))
        .arg("--json")
        .arg(&json)
        .arg("--")
        .arg(node())
        .arg(&script)
        .env("NODE_PATH", node_modules(case))
        .env("LEAKHUNT_TEST_PIDFILE", &pidfile)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = std::fs::read_to_string(&json)
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(serde_json::Value::Null);
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .map(|p| p.trim().parse().unwrap())
        .unwrap_or(0);
    assert!(pid != 0, "the service recorded its pid: {stderr}");
    assert!(
        !process_running(pid),
        "the service (pid {pid}) outlived the hunt"
    );
    Hunt {
        report,
        text: String::from_utf8_lossy(&out.stdout).into_owned(),
        code: out.status.code(),
        stderr,
        _dir: dir,
    }
}

fn leak_line(file: &Path) -> u64 {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .position(|l| l.contains("// LEAK:"))
        .expect("a // LEAK: marker") as u64
        + 1
}

/// The one suspect of a leaky hunt, with its pattern and explanation kind checked.
fn suspect<'a>(h: &'a Hunt, pattern: &str, kind: &str) -> &'a serde_json::Value {
    assert_eq!(h.code, Some(1), "{}\n{}", h.text, h.stderr);
    let top = &h.report["suspects"][0];
    assert_eq!(top["pattern"], pattern, "{top:#}");
    assert_eq!(top["explanation"]["kind"], kind, "{top:#}");
    top
}

/// The suspect is located at the fixture's `// LEAK:` line.
fn assert_at_leak_line(top: &serde_json::Value, file: &Path) {
    let loc = &top["location"];
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(loc["file"].as_str().unwrap().ends_with(name), "{loc}");
    assert_eq!(loc["line"].as_u64().unwrap(), leak_line(file), "{loc}");
}

/// Where V8 kept no allocation trace for any of the leaked objects (it keeps them for a
/// sample of recently made ones), the place is the library's line that stores them, read
/// from its source; when it kept one, the program's line that called into the library,
/// with a line of the library's `package` beside it.
fn assert_at_app_or_library_line(
    top: &serde_json::Value,
    app: &Path,
    package: &str,
    library_file: &str,
) {
    let file = top["location"]["file"].as_str().unwrap_or_default();
    if file.contains("node_modules") {
        assert!(file.contains(library_file), "{:#}", top["location"]);
    } else {
        let name = app.file_name().unwrap().to_str().unwrap();
        assert!(file.ends_with(name), "{:#}", top["location"]);
        let library = &top["library_location"];
        let in_package = library["file"]
            .as_str()
            .is_some_and(|f| f.contains(&format!("node_modules/{package}/")));
        assert!(in_package, "{library:#}");
    }
}

fn removal(top: &serde_json::Value) -> Vec<&str> {
    top["explanation"]["removal"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m.as_str()).collect())
        .unwrap_or_default()
}

fn fix_line(h: &Hunt) -> &str {
    h.text
        .lines()
        .find(|l| l.trim_start().starts_with("Fix:"))
        .unwrap_or_else(|| panic!("no Fix: line in\n{}", h.text))
}

fn assert_clean(h: &Hunt) {
    assert_eq!(
        h.report["verdict"], "clean",
        "{:#}\n{}",
        h.report["suspects"], h.stderr
    );
    assert_eq!(h.code, Some(0), "{}", h.stderr);
}

/// axios: `axios.interceptors.request.use(…)` in the handler (axios#1645, #4345): the
/// default instance's InterceptorManager keeps `{ fulfilled, rejected }` per request.
#[test]
fn axios_interceptor_added_per_request() {
    let h = hunt("axios-interceptors", "leaky.js", "GET /r/{{seq}}");
    let top = suspect(&h, "event-listener", "handler-list");
    assert_at_leak_line(top, &fixture_file("axios-interceptors", "leaky.js"));
    assert_eq!(top["owner"]["path"], "InterceptorManager.handlers");
    assert_eq!(top["explanation"]["holder_class"], "InterceptorManager");
    assert_eq!(top["explanation"]["record_class"], "Object");
    assert!(
        removal(top).contains(&"InterceptorManager.eject"),
        "{top:#}"
    );
    let fix = fix_line(&h);
    assert!(fix.contains("Register the handler once"), "{fix}");
    assert!(fix.contains("`InterceptorManager.eject`"), "{fix}");
    // stacks: the library line that stores it (InterceptorManager.js, `handlers.push`).
}

#[test]
fn axios_interceptor_registered_once_is_clean() {
    assert_clean(&hunt("axios-interceptors", "fixed.js", "GET /r/{{seq}}"));
}

/// Express: `app.use(…)` inside a route handler: the router's stack gains a Layer per request.
#[test]
fn express_middleware_added_per_request() {
    let h = hunt("express-router", "leaky.js", "GET /t/t{{seq}}/report");
    let top = suspect(&h, "event-listener", "handler-list");
    assert_at_leak_line(top, &fixture_file("express-router", "leaky.js"));
    assert_eq!(top["owner"]["path"], "router.stack");
    assert_eq!(top["explanation"]["record_class"], "Layer");
    // Express 4's router has no call that removes a layer (its `delete` routes the HTTP
    // method): registering once is the whole fix.
    assert!(removal(top).is_empty(), "{top:#}");
    let fix = fix_line(&h);
    assert!(fix.contains("Register the handler once"), "{fix}");
    assert!(!fix.contains("LRU"), "{fix}");
}

#[test]
fn express_middleware_registered_once_is_clean() {
    assert_clean(&hunt(
        "express-router",
        "fixed.js",
        "GET /t/t{{seq}}/report",
    ));
}

/// prom-client: a Histogram created per job, named after it: the default registry keeps
/// every metric for the scrape.
#[test]
fn prom_client_metric_created_per_request() {
    let h = hunt("prom-client", "leaky.js", "GET /jobs/j{{seq}}");
    let top = suspect(&h, "unbounded-collection", "library-collection");
    assert_eq!(top["class"], "Histogram");
    assert_eq!(top["owner"]["path"], "Registry._metrics");
    assert_eq!(top["explanation"]["holder_class"], "Registry");
    assert!(
        removal(top).contains(&"Registry.removeSingleMetric"),
        "{top:#}"
    );
    assert_at_app_or_library_line(
        top,
        &fixture_file("prom-client", "leaky.js"),
        "prom-client",
        "prom-client/lib/",
    );
    let fix = fix_line(&h);
    assert!(fix.contains("Create the Histogram once"), "{fix}");
    assert!(!fix.contains("LRU"), "{fix}");
}

#[test]
fn prom_client_metric_created_once_is_clean() {
    assert_clean(&hunt("prom-client", "fixed.js", "GET /jobs/j{{seq}}"));
}

/// prom-client: one histogram at module scope, labelled with the user id: the metric's
/// `hashMap` gains a key per user. The fix is bounding the label values (or removing a
/// user's series), not creating the metric per request.
#[test]
fn prom_client_label_value_per_user() {
    let h = hunt("prom-client", "labels.js", "GET /u/u{{seq}}");
    let top = suspect(&h, "unbounded-collection", "library-collection");
    assert_eq!(top["owner"]["path"], "Histogram.hashMap");
    assert_eq!(top["explanation"]["shared_by"], "latency");
    assert_eq!(top["explanation"]["keys_grow"], true, "{top:#}");
    assert!(removal(top).contains(&"latency.remove"), "{top:#}");
    let fix = fix_line(&h);
    assert!(fix.contains("pass values from a small fixed set"), "{fix}");
    assert!(fix.contains("`latency.remove`"), "{fix}");
    assert!(!fix.contains("create it per request"), "{fix}");
}

#[test]
fn prom_client_bounded_label_values_are_clean() {
    assert_clean(&hunt("prom-client", "labels-fixed.js", "GET /u/u{{seq}}"));
}

/// AsyncLocalStorage created per request and never disabled: Node's async_hooks keep every
/// enabled instance in `storageList` (Node 20; Node 24's AsyncContextFrame keeps none).
#[test]
fn async_local_storage_never_disabled() {
    let h = hunt("async-local-storage", "leaky.js", "GET /r/{{seq}}");
    let top = suspect(&h, "unbounded-collection", "library-collection");
    // Found as new storages under the list, or as the list's entries growing (then the
    // suspect's class is the list's): the same values either way.
    assert_eq!(
        top["explanation"]["value_class"], "AsyncLocalStorage",
        "{top:#}"
    );
    assert_eq!(top["owner"]["path"], "storageList");
    // Node's own code keeps the list: no library class.
    assert!(top["explanation"]["holder_class"].is_null(), "{top:#}");
    assert_eq!(removal(top), ["AsyncLocalStorage.disable"]);
    // Node's internals hold it, no closure of the program is on the path: only an allocation
    // stack gives the `new AsyncLocalStorage()` line, when V8 kept one for a leaked storage.
    if !top["location"].is_null() {
        assert_at_leak_line(top, &fixture_file("async-local-storage", "leaky.js"));
    }
    let fix = fix_line(&h);
    assert!(fix.contains("Create the AsyncLocalStorage once"), "{fix}");
    assert!(fix.contains("`AsyncLocalStorage.disable`"), "{fix}");
}

/// socket.io: the dashboard's socket joins a room per order and never leaves it (socket.io
/// #4067, #1808): the adapter's `rooms` map gains a Set per room.
#[test]
fn socket_io_rooms_never_left() {
    let h = hunt("socket-io", "leaky.js", "POST /track/o{{seq}}");
    let top = suspect(&h, "unbounded-collection", "library-collection");
    assert_eq!(top["owner"]["path"], "Adapter.rooms");
    assert_eq!(top["explanation"]["shared_by"], "dashboard");
    assert!(removal(top).contains(&"dashboard.leave"), "{top:#}");
    assert_at_app_or_library_line(
        top,
        &fixture_file("socket-io", "leaky.js"),
        "socket.io-adapter",
        "socket.io-adapter/dist/in-memory-adapter.js",
    );
    let fix = fix_line(&h);
    assert!(fix.contains("`dashboard.leave`"), "{fix}");
    assert!(!fix.contains("LRU"), "{fix}");
}

#[test]
fn socket_io_rooms_left_when_done_are_clean() {
    assert_clean(&hunt("socket-io", "fixed.js", "POST /track/o{{seq}}"));
}

/// TanStack Query: one QueryClient at module scope for every server render (TanStack/query
/// #1762): on the server queries are never garbage collected, so the QueryCache keeps one
/// per product.
#[test]
fn tanstack_query_client_shared_across_server_renders() {
    let h = hunt("tanstack-query", "leaky.js", "GET /products/p{{seq}}");
    let top = suspect(&h, "unbounded-collection", "library-collection");
    assert_eq!(top["class"], "Query");
    assert_eq!(top["owner"]["path"], "QueryCache.#queries");
    assert_eq!(top["explanation"]["shared_by"], "queryClient");
    // The library's line through its source map (queryCache.ts), or the program's call.
    assert_at_app_or_library_line(
        top,
        &fixture_file("tanstack-query", "leaky.js"),
        "@tanstack/query-core",
        "queryCache.ts",
    );
    let fix = fix_line(&h);
    assert!(
        fix.contains("`queryClient` holds state for one request only, create it per request"),
        "{fix}"
    );
}

#[test]
fn tanstack_query_client_per_request_is_clean() {
    assert_clean(&hunt(
        "tanstack-query",
        "fixed.js",
        "GET /products/p{{seq}}",
    ));
}

/// zustand: a store made once, subscribed to per request; `subscribe` returns the function
/// that unsubscribes and the handler drops it: the store's `listeners` set keeps every
/// request's listener. The fix names the call whose return value undoes it.
#[test]
fn zustand_subscription_never_unsubscribed() {
    let h = hunt("zustand-subscribe", "leaky.js", "GET /f/{{seq}}");
    let top = suspect(&h, "event-listener", "handler-list");
    assert_at_leak_line(top, &fixture_file("zustand-subscribe", "leaky.js"));
    assert_eq!(
        top["explanation"]["returned_removal"], "flags.subscribe",
        "{top:#}"
    );
    let fix = fix_line(&h);
    assert!(
        fix.contains("`flags.subscribe(…)` returns a function"),
        "{fix}"
    );
}

#[test]
fn zustand_subscription_undone_is_clean() {
    assert_clean(&hunt("zustand-subscribe", "fixed.js", "GET /f/{{seq}}"));
}

/// Node's EventEmitter with a named handler per request: the fix is the call that removes
/// it, in the program's own names.
#[test]
fn named_listener_never_removed_is_removed_by_name() {
    let h = hunt("node-events", "leaky.js", "GET /q/{{seq}}");
    let top = suspect(&h, "event-listener", "event-listener");
    assert_eq!(top["owner"]["path"], "prices");
    assert_eq!(top["explanation"]["handler"], "onPrice", "{top:#}");
    assert_eq!(
        top["explanation"]["removal"], "prices.off('price', onPrice)",
        "{top:#}"
    );
    let fix = fix_line(&h);
    assert!(fix.contains("call `prices.off('price', onPrice)`"), "{fix}");
}

#[test]
fn named_listener_removed_is_clean() {
    assert_clean(&hunt("node-events", "fixed.js", "GET /q/{{seq}}"));
}
