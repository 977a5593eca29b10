//! `leakhunt hunt` on services whose heap changes without leaking (V8 changing how it keeps
//! strings) and on the shapes that churn hides: strings appended to, collections of small
//! integers, two leaks on one path.

use crate::hunt::{hunt, service};

/// A list of strings built with `+=` and refreshed in turn holds 1,000 entries throughout;
/// V8 flattens each fresh one when it is sent, so flat strings replace concatenated ones at
/// every step.
#[test]
fn strings_changing_kind_in_a_list_that_holds_still_are_clean() {
    let file = service("headlines-service.js");
    let h = hunt(
        &["--request", "GET /ticker", "--iterations", "300"],
        &["node", file.to_str().unwrap()],
    );
    assert_eq!(h.report["verdict"], "clean", "{:#}", h.report["suspects"]);
    assert_eq!(h.code, Some(0), "{}", h.stderr);
}

/// The 1-based line of `file` that contains `marker`.
fn line_of(file: &std::path::Path, marker: &str) -> u64 {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines().position(|l| l.contains(marker)).expect(marker) as u64 + 1
}

/// The suspect whose owner is `path`.
fn suspect_owned_by<'a>(report: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    report["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["owner"]["path"] == path)
        .unwrap_or_else(|| panic!("no suspect held by {path}: {:#}", report["suspects"]))
}

/// A log appended to per request is one string that gets longer: counted in appends while
/// V8 keeps it as a chain of concatenations, in bytes once searching it has flattened it.
#[test]
fn strings_appended_to_per_request_grow_by_their_appends_or_bytes() {
    let file = service("log-service.js");
    let h = hunt(
        &[
            "--request",
            r#"POST /orders {"id":{{seq}},"user":"u{{i}}"}"#,
            "--request",
            r#"POST /events {"kind":"click","user":"u{{i}}"}"#,
            "--iterations",
            "300",
        ],
        &["node", file.to_str().unwrap()],
    );
    assert_eq!(h.code, Some(1), "{}", h.stderr);
    let journal = suspect_owned_by(&h.report, "text");
    // A factory function's variable, not the module's.
    assert_eq!(journal["owner"]["kind"], "closure-variable", "{journal:#}");
    assert_eq!(
        journal["explanation"]["kind"], "growing-string",
        "{journal:#}"
    );
    assert_eq!(journal["count_unit"], "appends", "{journal:#}");
    let appends = journal["count_per_step"].as_f64().unwrap();
    assert!((appends - 300.0).abs() <= 1.0, "{journal:#}");
    assert_eq!(
        journal["location"]["line"].as_u64(),
        Some(line_of(&file, "// LEAK: the journal"))
    );
    let orders = suspect_owned_by(&h.report, "orderLog");
    assert_eq!(orders["owner"]["kind"], "module-variable", "{orders:#}");
    assert_eq!(
        orders["explanation"]["kind"], "growing-string",
        "{orders:#}"
    );
    assert_eq!(orders["count_unit"], "bytes", "{orders:#}");
    // 300 lines of about 45 characters a step.
    let bytes = orders["bytes_per_step"].as_f64().unwrap();
    assert!((10_000.0..40_000.0).contains(&bytes), "{orders:#}");
    assert_eq!(
        orders["location"]["line"].as_u64(),
        Some(line_of(&file, "// LEAK: the order log"))
    );
}

/// A Set of small integers adds no object per entry (V8 keeps them inside its table): it is
/// found by its table's capacity. A Map of records whose callbacks share a keep-alive socket
/// counts its entries, not the socket's parts as more of them. Callbacks kept in an array
/// name the variables they capture.
#[test]
fn a_set_of_small_integers_grows_and_a_map_counts_its_entries() {
    let file = service("collections-service.js");
    let h = hunt(
        &[
            "--request",
            r#"POST /visit {"visitor":{{seq}}}"#,
            "--request",
            r#"POST /orders {"order":"o{{seq}}"}"#,
            "--request",
            r#"POST /upload {"name":"f{{seq}}"}"#,
            // 200 a round: the Set's table doubles at every step (256, 512, 1024 slots).
            "--iterations",
            "200",
        ],
        &["node", file.to_str().unwrap()],
    );
    assert_eq!(h.code, Some(1), "{}", h.stderr);
    let acks = suspect_owned_by(&h.report, "pendingAcks");
    assert_eq!(acks["count_per_step"].as_f64(), Some(200.0), "{acks:#}");
    // Keyed by `{{seq}}`, one entry per iteration: the report says such growth is by design.
    assert_eq!(acks["one_entry_per_new_key"], true, "{acks:#}");
    assert_eq!(
        acks["location"]["line"].as_u64(),
        Some(line_of(&file, "// LEAK: no ack"))
    );
    let visitors = suspect_owned_by(&h.report, "seenVisitors");
    assert_eq!(visitors["pattern"], "unbounded-collection", "{visitors:#}");
    assert_eq!(visitors["count_unit"], "slots", "{visitors:#}");
    assert_eq!(visitors["explanation"]["entries_now"], 1024, "{visitors:#}");
    assert!(
        visitors.get("one_entry_per_new_key").is_none(),
        "slots, not entries"
    );
    assert_eq!(
        visitors["location"]["line"].as_u64(),
        Some(line_of(&file, "// LEAK: visitors"))
    );
    // Retry callbacks made in a `catch` block: what they keep is the function's `rows`.
    let retries = suspect_owned_by(&h.report, "pendingRetries");
    assert_eq!(retries["captured"][0]["name"], "rows", "{retries:#}");
    // A list gains an entry per call whatever its values: no "one entry per new key" note.
    assert!(
        retries.get("one_entry_per_new_key").is_none(),
        "an array has no keys: {retries:#}"
    );
    // Each place names the function it is in: found by reading the source (the Map's
    // `.set(`) or the anonymous callback's own position.
    assert_eq!(acks["location"]["function"], "handle", "{acks:#}");
    assert_eq!(retries["location"]["function"], "upload", "{retries:#}");
}

/// Two independent leaks, where the shortest path to one's entries runs through the
/// other's list: each is its own suspect with its own bytes.
#[test]
fn a_leak_reached_through_another_is_reported_apart() {
    let file = service("two-leaks-service.js");
    let h = hunt(
        &[
            "--request",
            r#"POST /search {"q":"q{{seq}}"}"#,
            "--iterations",
            "300",
        ],
        &["node", file.to_str().unwrap()],
    );
    assert_eq!(h.code, Some(1), "{}", h.stderr);
    let contexts = suspect_owned_by(&h.report, "keptContexts");
    let searches = suspect_owned_by(&h.report, "Object.recentSearches");
    // The searches are found as themselves (300 objects a step), not only as their list
    // growing once the objects were counted in the contexts' bytes.
    assert_eq!(searches["class"], "Object", "{searches:#}");
    assert_eq!(searches["count_per_step"].as_f64(), Some(300.0));
    // Merged, the contexts counted the searches' bytes as theirs too (about 1.8 times their
    // own).
    let (c, s) = (
        contexts["bytes_per_step"].as_f64().unwrap(),
        searches["bytes_per_step"].as_f64().unwrap(),
    );
    assert!(c < 1.6 * s, "contexts {c} B, searches {s} B per step");
    assert_eq!(
        searches["location"]["line"].as_u64(),
        Some(line_of(&file, "// LEAK: never trimmed"))
    );
}

/// A listener added to an emitter another module makes and exports: the emitter is named by
/// that module, not by the one that imported it.
#[test]
fn an_imported_emitter_is_named_by_the_module_that_exports_it() {
    let file = service("notify-service.js");
    let h = hunt(
        &[
            "--request",
            r#"POST /subscribe {"user":"u{{i}}"}"#,
            "--iterations",
            "200",
        ],
        &["node", file.to_str().unwrap()],
    );
    assert_eq!(h.code, Some(1), "{}", h.stderr);
    let top = &h.report["suspects"][0];
    assert_eq!(top["pattern"], "event-listener", "{top:#}");
    let owner = &top["owner"];
    assert_eq!(owner["kind"], "module-export", "{owner}");
    assert_eq!(owner["path"], "exports.hub", "{owner}");
    assert!(
        owner["module"].as_str().unwrap().ends_with("notify/hub.js"),
        "{owner}"
    );
}
