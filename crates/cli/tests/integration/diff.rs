//! `leakhunt diff` against Chrome DevTools' own Comparison computation.

use std::collections::HashMap;
use std::process::Command;

use crate::support::*;

/// DevTools' rows merged into leakhunt's class names: functions are `(closure)`; plain-object
/// interface classes (`{a, b}`) are `Object`; constructors split by location merge by name;
/// DevTools' `Detached ` renaming of native nodes is not done.
fn leakhunt_class(devtools_name: &str) -> String {
    match devtools_name {
        "Function" => "(closure)".into(),
        n if n.starts_with('{') => "Object".into(),
        n => n.strip_prefix("Detached ").unwrap_or(n).into(),
    }
}

#[derive(Default, Debug, Clone, Copy, PartialEq)]
struct Row {
    new: i64,
    deleted: i64,
    alloc: i64,
    freed: i64,
}

#[test]
fn comparison_matches_devtools_by_its_rules() {
    let dir = leakhunt_testkit::snapshots::folder(&node(), &fixture("growing.js"), &[]);
    let base = dir.join("base.heapsnapshot");
    let after = dir.join("after.heapsnapshot");

    let ours = leakhunt_json(&[
        "diff",
        path_str(&base),
        path_str(&after),
        "--top",
        "0",
        "--json",
    ]);
    let ours: HashMap<String, Row> = ours["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let v = |k: &str| r[k].as_i64().unwrap();
            (
                r["class"].as_str().unwrap().to_string(),
                Row {
                    new: v("new_count"),
                    deleted: v("deleted_count"),
                    alloc: v("alloc_size"),
                    freed: v("freed_size"),
                },
            )
        })
        .collect();

    let out = Command::new(node())
        .arg(fixture("devtools-comparison.js"))
        .arg(devtools_toolkit())
        .arg(&base)
        .arg(&after)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut theirs: HashMap<String, Row> = HashMap::new();
    let mut merged: std::collections::HashSet<String> = Default::default();
    for r in rows.as_array().unwrap() {
        let name = r["name"].as_str().unwrap();
        let class = leakhunt_class(name);
        let e = theirs.entry(class.clone()).or_default();
        if e.new + e.deleted > 0 || class != name {
            merged.insert(class.clone());
        }
        e.new += r["new"].as_i64().unwrap();
        e.deleted += r["deleted"].as_i64().unwrap();
        e.alloc += r["alloc"].as_i64().unwrap();
        e.freed += r["freed"].as_i64().unwrap();
    }

    // The growth we planted shows in both, with the same numbers.
    assert_eq!(ours["Order"], theirs["Order"]);
    assert_eq!(ours["Order"].new, 500);
    for (class, t) in &theirs {
        let o = ours.get(class).copied().unwrap_or_default();
        if merged.contains(class) {
            // Objects moving between DevTools' sub-classes count as deleted and new there but
            // not here; what is new overall is the same.
            assert_eq!(
                o.new - o.deleted,
                t.new - t.deleted,
                "{class}: {o:?} vs {t:?}"
            );
            assert_eq!(
                o.alloc - o.freed,
                t.alloc - t.freed,
                "{class}: {o:?} vs {t:?}"
            );
        } else {
            assert_eq!(o, *t, "{class}");
        }
    }
    for class in ours.keys() {
        assert!(
            theirs.contains_key(class),
            "{class} is in our comparison but not in DevTools'"
        );
    }
}

#[test]
fn refuses_snapshots_of_two_processes() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_snapshot(&node(), "planted.js", dir.path(), "a.heapsnapshot");
    let sub = leakhunt_testkit::snapshots::folder(&node(), &fixture("growing.js"), &[]);
    let out = leakhunt(&[
        "diff",
        path_str(&a),
        path_str(&sub.join("after.heapsnapshot")),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("one process"), "{err}");
}
