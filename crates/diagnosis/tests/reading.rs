//! Reading the program without allocation stacks: on plain snapshots the line that grows a
//! collection is found by reading the script the snapshot names, in the function that holds
//! the collection (its scope as the snapshot shows it), not at the first mention of its name.

use std::path::{Path, PathBuf};

use leakhunt_diagnosis::{diagnose, LeakOptions, Verdict};
use leakhunt_findings::Pattern;
use leakhunt_testkit::runtime::node;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The 1-based line of the fixture marked `// LEAK:`.
fn leak_line(file: &Path) -> u32 {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .position(|l| l.contains("// LEAK:"))
        .expect("a // LEAK: marker") as u32
        + 1
}

/// The name is mentioned first in a comment, then grown in a module-level array of the same
/// name and read in another method: the insert is the one in the factory's nested function.
#[test]
fn the_insert_in_the_function_that_holds_the_collection() {
    let script = fixture("nested-insert-leak.js");
    let files = leakhunt_testkit::snapshots::ladder(&node(), &script, 3);
    let report = diagnose(&files, &LeakOptions::default(), &|_| {}).expect("diagnosis");
    assert_eq!(report.verdict, Verdict::Leak, "{report:#?}");
    let top = &report.suspects[0];
    assert_eq!(top.pattern, Pattern::UnboundedCollection, "{top:#?}");
    let loc = top.location.as_ref().expect("a location");
    assert!(loc.file.ends_with("nested-insert-leak.js"), "{loc:?}");
    assert_eq!(loc.line, leak_line(&script), "{loc:?}");
    // Named by the function around the insert.
    assert_eq!(loc.function.as_deref(), Some("track"), "{loc:?}");
}

/// A script whose source map is there but empty: the place stays in the script, and a note
/// says why.
#[test]
fn an_empty_source_map_is_noted() {
    let script = fixture("empty-map-leak.js");
    let files = leakhunt_testkit::snapshots::ladder(&node(), &script, 3);
    let report = diagnose(&files, &LeakOptions::default(), &|_| {}).expect("diagnosis");
    assert_eq!(report.verdict, Verdict::Leak, "{report:#?}");
    let top = &report.suspects[0];
    assert_eq!(top.pattern, Pattern::EventListener, "{top:#?}");
    let loc = top.location.as_ref().expect("a location");
    assert!(loc.file.ends_with("empty-map-leak.js"), "{loc:?}");
    assert_eq!(loc.line, leak_line(&script), "{loc:?}");
    assert_eq!(report.notes.len(), 1, "{:#?}", report.notes);
    let note = &report.notes[0];
    assert!(
        note.contains("empty-map-leak.js") && note.contains("no mappings"),
        "{note}"
    );
}

/// An ES module's variable: its scope is held by the module's code, not a closure; a local of
/// the same name grown in another function is another variable.
#[test]
fn a_module_variable_of_an_es_module() {
    let script = fixture("esm-shadow-leak.mjs");
    let files = leakhunt_testkit::snapshots::ladder(&node(), &script, 3);
    let report = diagnose(&files, &LeakOptions::default(), &|_| {}).expect("diagnosis");
    assert_eq!(report.verdict, Verdict::Leak, "{report:#?}");
    let top = &report.suspects[0];
    assert_eq!(top.pattern, Pattern::UnboundedCollection, "{top:#?}");
    let loc = top.location.as_ref().expect("a location");
    assert!(loc.file.ends_with("esm-shadow-leak.mjs"), "{loc:?}");
    assert_eq!(loc.line, leak_line(&script), "{loc:?}");
    assert_eq!(loc.function.as_deref(), Some("handle"), "{loc:?}");
}
