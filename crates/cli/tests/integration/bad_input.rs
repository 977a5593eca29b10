//! Bad input: one line on stderr naming the file and the problem, exit code 2.

use std::path::Path;

use crate::support::*;

fn expect_error(file: &Path, words: &[&str]) {
    let out = leakhunt(&["summary", path_str(file)]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(path_str(file)), "names the file: {err}");
    for w in words {
        assert!(err.contains(w), "mentions {w:?}: {err}");
    }
    assert!(out.stdout.is_empty());
}

fn write(dir: &Path, name: &str, text: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    expect_error(&dir.path().join("nope.heapsnapshot"), &["no such file"]);
}

#[test]
fn truncated_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let snap = write_snapshot(&node(), "planted.js", dir.path(), "full.heapsnapshot");
    let bytes = std::fs::read(&snap).unwrap();
    for cut in [bytes.len() / 3, bytes.len() - 10] {
        let p = write(dir.path(), "cut.heapsnapshot", &bytes[..cut]);
        expect_error(&p, &["truncated"]);
    }
}

#[test]
fn json_that_is_not_a_heap_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "package.json",
        br#"{"name":"x","version":"1.0.0"}"#,
    );
    expect_error(&p, &["not a V8 heap snapshot"]);
    let p = write(dir.path(), "list.json", b"[1,2,3]");
    expect_error(&p, &["not a V8 heap snapshot"]);
}

#[test]
fn not_json_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "notes.txt", b"hello, heap");
    expect_error(&p, &["not JSON"]);
    let p = write(dir.path(), "empty.heapsnapshot", b"");
    expect_error(&p, &["empty"]);
}

#[test]
fn unknown_meta_layout() {
    let dir = tempfile::tempdir().unwrap();
    let text = br#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size"],"node_types":[["object"]],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["property"]]},"node_count":1,"edge_count":0},"nodes":[0,0,1,0],"edges":[],"strings":[""]}"#;
    let p = write(dir.path(), "odd.heapsnapshot", text);
    expect_error(&p, &["unknown heap snapshot layout", "edge_count"]);
}

#[test]
fn empty_graph() {
    let dir = tempfile::tempdir().unwrap();
    let text = br#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],"node_types":[["synthetic"]],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["property"]]},"node_count":0,"edge_count":0},"nodes":[],"edges":[],"strings":[""]}"#;
    let p = write(dir.path(), "empty-graph.heapsnapshot", text);
    expect_error(&p, &["empty"]);
}

#[test]
fn javascriptcore_snapshot_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let text = br#"{"version":3,"type":"Inspector","nodes":[0,0,0,0],"nodeClassNames":["<root>"],"edges":[],"edgeTypes":["Internal"],"edgeNames":[]}"#;
    let p = write(dir.path(), "bun.jsc.json", text);
    expect_error(&p, &["JavaScriptCore", "generateHeapSnapshot(\"v8\")"]);
}
