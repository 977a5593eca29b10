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
        assert_eq!(path["object"]["class"], "Planted");
        assert_eq!(path["object"]["id"], t["id"]);
        assert!(
            steps.iter().any(|s| s["edge"] == "planted"
                && s["edge_type"] == "property"
                && s["holder_class"] == "Object"),
            "{path}"
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

/// The TypeScript compiler installed by scripts/install-runtimes.sh.
fn tsc() -> std::path::PathBuf {
    let p = repo_root().join(".cache/runtimes/typescript/node_modules/.bin/tsc");
    assert!(
        p.exists(),
        "{} is missing: run scripts/install-runtimes.sh (scripts/test does)",
        p.display()
    );
    p
}

/// `(file, line, column)` of a location in a JSON report.
fn position(l: &serde_json::Value) -> (String, u64, u64) {
    (
        l["file"]
            .as_str()
            .unwrap_or_else(|| panic!("{l}"))
            .to_string(),
        l["line"].as_u64().unwrap(),
        l["column"].as_u64().unwrap(),
    )
}

#[test]
fn retainers_and_leaks_show_the_same_source_mapped_positions() {
    // A TypeScript program compiled with a source map: `leaks` points into the .ts source
    // (this is also the diagnosis's source-map test); `retainers` on the same object must
    // show the same places, not the compiled .js.
    let dir = tempfile::tempdir().unwrap();
    let ts = repo_root().join("crates/diagnosis/tests/fixtures/ts/listener-leak.ts");
    let out = dir.path().join("dist");
    let status = std::process::Command::new(tsc())
        .args([
            "--sourceMap",
            "--target",
            "es2020",
            "--module",
            "commonjs",
            "--outDir",
        ])
        .arg(&out)
        .arg(&ts)
        .status()
        .unwrap();
    assert!(status.success(), "tsc failed");
    let snaps = dir.path().join("snaps");
    std::fs::create_dir(&snaps).unwrap();
    let status = std::process::Command::new(node())
        .arg(out.join("listener-leak.js"))
        .arg(&snaps)
        .arg("3")
        .status()
        .unwrap();
    assert!(status.success());
    let files: Vec<String> = (1..=3)
        .map(|i| {
            snaps
                .join(format!("s{i}.heapsnapshot"))
                .display()
                .to_string()
        })
        .collect();
    let mut args = vec!["leaks"];
    args.extend(files.iter().map(String::as_str));
    args.push("--json");
    let out = leakhunt(&args);
    assert_eq!(out.status.code(), Some(1));
    let leaks: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let suspect = &leaks["suspects"][0];
    // The listener's line in the TypeScript source, found through the compiled script's
    // source map (the line marked `// LEAK:`).
    let at = position(&suspect["location"]);
    assert!(at.0.ends_with("ts/listener-leak.ts"), "{at:?}");
    let marked = std::fs::read_to_string(&ts)
        .unwrap()
        .lines()
        .position(|l| l.contains("// LEAK:"))
        .unwrap() as u64
        + 1;
    assert_eq!(at.1, marked, "{at:?}");
    let id = suspect["path"]["object"]["id"]
        .as_u64()
        .unwrap()
        .to_string();

    let r = leakhunt_json(&["retainers", &files[2], "--id", &id, "--json"]);
    let target = &r["targets"][0];
    assert_eq!(
        position(&target["location"]),
        at,
        "the listener's position, as `leaks` shows it"
    );
    // Its holders too: the same path, each function or constructor on it at the same place.
    let ours = &target["paths"][0]["steps"];
    let theirs = suspect["path"]["steps"].as_array().unwrap();
    assert_eq!(ours.as_array().unwrap().len(), theirs.len());
    let mut located = 0;
    for (a, b) in ours.as_array().unwrap().iter().zip(theirs) {
        assert_eq!(a["holder_id"], b["holder_id"]);
        assert_eq!(a["location"], b["location"], "{a} / {b}");
        located += usize::from(!a["location"].is_null());
    }
    assert!(located > 0, "some holder has a location: {ours}");
}
