//! Snapshots from every runtime we support load and agree on what was planted.

use crate::support::*;

fn check_planted(runtime: &std::path::Path, expect_path: bool) {
    let dir = tempfile::tempdir().unwrap();
    let snap = write_snapshot(runtime, "planted.js", dir.path(), "planted.heapsnapshot");
    let s = leakhunt_json(&["summary", path_str(&snap), "--json", "--top", "0"]);
    assert_eq!(class(&s, "Planted")["count"], 1000, "{}", runtime.display());
    let r = leakhunt_json(&["retainers", path_str(&snap), "--class", "Planted", "--json"]);
    let paths = r["targets"][0]["paths"].as_array().unwrap();
    if expect_path {
        assert_eq!(paths[0]["steps"][0]["holder_class"], "Array");
    }
}

#[test]
fn node_20_snapshot_loads() {
    check_planted(&node(), true);
}

#[test]
fn node_24_single_line_snapshot_loads() {
    check_planted(&node24(), true);
}

#[test]
fn bun_v8_export_loads() {
    // Bun's export shows no stack or module roots, so the planted array has no path; what
    // matters here is that its layout (no `<dummy>` string, raw UTF-8) reads correctly.
    check_planted(&bun(), false);
}

#[test]
fn bun_raw_utf8_and_lone_surrogates_decode() {
    let dir = tempfile::tempdir().unwrap();
    let snap = write_snapshot(&bun(), "unicode.js", dir.path(), "unicode.heapsnapshot");
    let s = leakhunt_json(&["summary", path_str(&snap), "--json", "--top", "0"]);
    assert_eq!(class(&s, "CaféRecord")["count"], 3);
}
