use crate::support::*;

#[test]
fn planted_path_runs_through_the_array_to_the_gc_roots() {
    let dir = tempfile::tempdir().unwrap();
    let snap = write_snapshot(&node(), "planted.js", dir.path(), "planted.heapsnapshot");
    let r = leakhunt_json(&[
        "retainers",
        path_str(&snap),
        "--class",
        "Planted",
        "--paths",
        "2",
        "--json",
    ]);
    let targets = r["targets"].as_array().unwrap();
    assert_eq!(
        targets.len(),
        2,
        "one path each to the two largest instances"
    );
    for t in targets {
        assert_eq!(t["class"], "Planted");
        assert!(t["retained_size"].as_u64().unwrap() >= 10 * 1024);
        let loc = &t["location"];
        assert!(
            loc["file"].as_str().unwrap().ends_with("planted.js"),
            "{loc}"
        );
        assert_eq!(loc["line"], 5, "the constructor's line");
        let path = &t["paths"][0];
        let steps = path["steps"].as_array().unwrap();
        // Leaked object first: its first holder is the module-level array, by index.
        assert_eq!(steps[0]["holder_class"], "Array");
        assert_eq!(steps[0]["edge_type"], "element");
        let lines: Vec<&str> = path["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        assert!(lines[0].starts_with("Planted @"), "{lines:?}");
        assert_eq!(*lines.last().unwrap(), "(GC roots)");
        assert!(
            lines.iter().any(|l| l.contains(".planted in Object")),
            "{lines:?}"
        );
    }
}

#[test]
fn paths_by_id_are_distinct_and_text_is_one_hop_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let snap = write_snapshot(&node(), "planted.js", dir.path(), "planted.heapsnapshot");
    let r = leakhunt_json(&["retainers", path_str(&snap), "--class", "Planted", "--json"]);
    let id = r["targets"][0]["id"].as_u64().unwrap().to_string();
    // The array is held by several objects (module exports, the local's context…): ask for
    // three paths to the array itself and check they differ.
    let array_id = r["targets"][0]["paths"][0]["steps"][0]["holder_id"]
        .as_u64()
        .unwrap()
        .to_string();
    let a = leakhunt_json(&[
        "retainers",
        path_str(&snap),
        "--id",
        &array_id,
        "--paths",
        "3",
        "--json",
    ]);
    let paths = a["targets"][0]["paths"].as_array().unwrap();
    assert!(!paths.is_empty());
    let firsts: std::collections::HashSet<u64> = paths
        .iter()
        .map(|p| p["steps"][0]["holder_id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        firsts.len(),
        paths.len(),
        "distinct paths start at distinct holders"
    );

    let out = leakhunt(&["retainers", path_str(&snap), "--id", &id]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(&format!("Planted @{id}")), "{text}");
    assert!(
        text.lines()
            .filter(|l| l.trim_start().starts_with("← "))
            .count()
            >= 3,
        "{text}"
    );
    assert!(text.trim_end().ends_with("(GC roots)"), "{text}");
}

#[test]
fn unknown_id_or_class_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let snap = write_snapshot(&node(), "planted.js", dir.path(), "planted.heapsnapshot");
    let out = leakhunt(&["retainers", path_str(&snap), "--class", "NoSuchClass"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("planted.heapsnapshot") && err.contains("NoSuchClass"),
        "{err}"
    );
    let out = leakhunt(&["retainers", path_str(&snap), "--id", "4294967295"]);
    assert_eq!(out.status.code(), Some(2));
}
