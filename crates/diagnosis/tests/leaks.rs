//! Leak diagnosis on real Node programs: each fixture leaks one way (or not at all) and
//! writes a ladder of snapshots after equal rounds of work; the diagnosis must name the
//! pattern, the class and the line marked `// LEAK:` in the fixture.

use std::path::{Path, PathBuf};

use leakhunt_diagnosis::{diagnose, LeakOptions, LeakReport, Verdict};
use leakhunt_findings::{CountUnit, Explanation, OwnerKind, Pattern};
use leakhunt_testkit::runtime::node;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Diagnoses the fixture's ladder (written once per test run, shared with other tests).
fn ladder(name: &str, rounds: u32) -> (LeakReport, PathBuf) {
    let files = leakhunt_testkit::snapshots::ladder(&node(), &fixture(name), rounds);
    let report = diagnose(&files, &LeakOptions::default(), &|_| {}).expect("diagnosis");
    let dir = files[0].parent().unwrap().to_path_buf();
    (report, dir)
}

/// The 1-based line of the fixture marked `// LEAK:`.
fn leak_line(name: &str) -> u32 {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    text.lines()
        .position(|l| l.contains("// LEAK:"))
        .expect("a // LEAK: marker") as u32
        + 1
}

fn assert_top(name: &str, pattern: Pattern, class: &str) -> LeakReport {
    let (report, _dir) = ladder(name, 3);
    assert_eq!(report.verdict, Verdict::Leak, "{name}: {report:#?}");
    let top = &report.suspects[0];
    assert_eq!(top.pattern, pattern, "{name}: {top:#?}");
    assert_eq!(top.class, class, "{name}: {top:#?}");
    let loc = top
        .location
        .as_ref()
        .unwrap_or_else(|| panic!("{name}: no location: {top:#?}"));
    assert!(loc.file.ends_with(name), "{name}: {loc:?}");
    assert_eq!(loc.line, leak_line(name), "{name}: {loc:?}");
    assert!(top.count_per_step >= 1.0 && top.bytes_per_step > 0.0);
    assert_eq!(top.count_by_snapshot.len(), 3);
    assert_eq!(top.path.object.class, class, "{top:#?}");
    assert!(!top.path.steps.is_empty(), "held by something: {top:#?}");
    // The words come from these facts; every format shows them.
    assert!(!leakhunt_printer::prose::explanation(top).is_empty());
    report
}

#[test]
fn listener_added_per_user_and_never_removed() {
    let r = assert_top("listener-leak.js", Pattern::EventListener, "(closure)");
    assert_eq!(
        r.suspects[0].explanation,
        Explanation::EventListener {
            emitter_class: "EventEmitter".into(),
            event: Some("notification".into()),
            event_names_grow: false,
            handler: None,
            removal: Some("notificationBus.off('notification', listener)".into()),
        }
    );
    let text = leakhunt_printer::prose::explanation(&r.suspects[0]);
    assert!(text.contains("'notification'"), "{text}");
}

#[test]
fn event_target_listener_never_removed() {
    let r = assert_top("event-target-leak.js", Pattern::EventListener, "Listener");
    let Explanation::EventListener { event, .. } = &r.suspects[0].explanation else {
        panic!("{:#?}", r.suspects[0]);
    };
    assert_eq!(event.as_deref(), Some("abort"));
}

#[test]
fn interval_per_session_never_cleared() {
    assert_top("interval-leak.js", Pattern::Timer, "Timeout");
}

#[test]
fn a_timer_deep_in_a_long_timer_list_gets_a_folded_path() {
    // Node keeps the 450 intervals in one circular list: the middle ones are ~225 hops from
    // the list. Their path is folded, not cut.
    use leakhunt_diagnosis::Locator;
    use leakhunt_engine::{reader, Analysis, AnalysisOptions};

    let (_report, dir) = ladder("interval-leak.js", 3);
    let g = reader::read_path(&dir.join("s3.heapsnapshot"), &Default::default()).unwrap();
    let a = Analysis::new(
        g,
        &AnalysisOptions {
            retainer_paths: true,
            on_phase: None,
        },
    );
    let timeout = a.classes.find("Timeout").unwrap();
    let deepest = (0..a.graph.node_count() as u32)
        .filter(|&n| a.classes.class_of(&a.graph, n) == timeout)
        .max_by_key(|&n| a.distances.distance[n as usize])
        .unwrap();
    let path = Locator::new(&a, Default::default(), None).shortest_path(deepest);
    assert!(path.steps.len() > 100, "{} hops", path.steps.len());
    let text: Vec<String> = leakhunt_printer::path::lines(&path)
        .iter()
        .map(leakhunt_printer::path::line_text)
        .collect();
    assert!(text.len() < 20, "{text:?}");
    assert!(text.iter().any(|l| l.contains(" × ._idle")), "{text:?}");
    assert_eq!(text.last().unwrap(), "(GC roots)", "{text:?}");
}

#[test]
fn kept_callback_closing_over_a_large_object() {
    let r = assert_top(
        "closure-capture-leak.js",
        Pattern::ClosureCapture,
        "(closure)",
    );
    assert_eq!(r.suspects[0].captured[0].name, "report");
}

#[test]
fn module_level_map_cache_without_eviction() {
    let r = assert_top(
        "map-cache-leak.js",
        Pattern::UnboundedCollection,
        "UserProfile",
    );
    let owner = r.suspects[0].owner.as_ref().unwrap();
    assert_eq!(owner.kind, OwnerKind::ModuleVariable, "{owner:?}");
    assert!(
        owner
            .module
            .as_deref()
            .unwrap()
            .ends_with("map-cache-leak.js")
            && owner.path == "userCache",
        "{owner:?}"
    );
}

#[test]
fn map_used_directly_by_a_request_handler_is_not_a_listener_leak() {
    // The path runs through the server's `_events.request`; the growth is the Map's.
    let r = assert_top(
        "handler-map-leak.js",
        Pattern::UnboundedCollection,
        "Session",
    );
    let top = &r.suspects[0];
    let owner = top.owner.as_ref().unwrap();
    assert!(
        owner
            .module
            .as_deref()
            .unwrap()
            .ends_with("handler-map-leak.js")
            && owner.path == "sessions",
        "{top:#?}"
    );
    assert!(
        (top.count_per_step - 40.0).abs() < 1.0,
        "one per session: {top:#?}"
    );
}

#[test]
fn array_of_plain_numbers_that_only_grows() {
    let r = assert_top(
        "numbers-array-leak.js",
        Pattern::UnboundedCollection,
        "Array",
    );
    assert_eq!(r.suspects[0].count_unit, CountUnit::Slots);
}

#[test]
fn buffers_kept_in_a_list_are_named_not_their_memory_slabs() {
    let r = assert_top(
        "buffer-list-leak.js",
        Pattern::UnboundedCollection,
        "Buffer",
    );
    assert!(
        (r.suspects[0].count_per_step - 400.0).abs() < 1.0,
        "{:#?}",
        r.suspects[0]
    );
}

#[test]
fn bounded_window_of_numbers_is_clean() {
    let (report, _dir) = ladder("numbers-window-clean.js", 4);
    assert_eq!(report.verdict, Verdict::Clean, "{report:#?}");
}

#[test]
fn plain_object_used_as_a_dictionary() {
    let r = assert_top(
        "object-dictionary-leak.js",
        Pattern::UnboundedCollection,
        "Object",
    );
    assert_eq!(r.suspects[0].owner.as_ref().unwrap().path, "activeSessions");
}

#[test]
fn array_of_kept_incoming_messages() {
    assert_top(
        "request-leak.js",
        Pattern::RetainedRequest,
        "IncomingMessage",
    );
}

#[test]
fn cache_that_fills_then_evicts_with_large_garbage_is_clean() {
    let (report, _dir) = ladder("clean-cache.js", 3);
    assert_eq!(report.verdict, Verdict::Clean, "{report:#?}");
}

#[test]
fn growth_that_happens_once_is_clean() {
    let (report, _dir) = ladder("warmup-once.js", 3);
    assert_eq!(report.verdict, Verdict::Clean, "{report:#?}");
}

#[test]
fn longer_ladders_work_too() {
    let (report, _dir) = ladder("map-cache-leak.js", 4);
    assert_eq!(report.suspects[0].count_by_snapshot.len(), 4);
    assert_eq!(report.steps, 3);
}

#[test]
fn too_few_snapshots_is_an_error() {
    let err = diagnose(
        &[fixture("a"), fixture("b")],
        &LeakOptions::default(),
        &|_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("at least 3"));
}
