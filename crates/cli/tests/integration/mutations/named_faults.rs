//! The faults the issue names, one by one.

use super::*;

pub(super) fn one_line_naming(o: &Outcome, file: &str, words: &[&str]) {
    let lines: Vec<&str> = o.stderr.trim_end().lines().collect();
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert_eq!(lines.len(), 1, "one line: {}", o.stderr);
    assert!(lines[0].contains(file), "names {file}: {}", o.stderr);
    for w in words {
        assert!(lines[0].contains(w), "mentions {w:?}: {}", o.stderr);
    }
}

/// A small file whose header claims 2^31 nodes and 2^32 - 1 edges (6 × 8 GiB of columns if
/// believed), as a plain file, gzip, and on standard input: refused within a memory limit
/// far below that, using memory in proportion to the file.
#[test]
pub(super) fn a_hostile_header_is_refused_in_memory_bounded_by_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = br#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],"node_types":[["synthetic","object"]],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["property"]]},"node_count":2147483648,"edge_count":4294967295},"nodes":[0,0,1,0,0,1,1,3,16,0],"edges":[],"strings":["","A"]}"#;
    let plain = dir.path().join("hostile.heapsnapshot");
    std::fs::write(&plain, text).unwrap();
    let gz = dir.path().join("hostile.heapsnapshot.gz");
    std::fs::write(&gz, gzip(text)).unwrap();
    for (file, stdin) in [(&plain, None), (&gz, None), (&plain, Some(&plain))] {
        let name = if stdin.is_some() {
            "-".to_string()
        } else {
            file.display().to_string()
        };
        let o = run_limited(
            &["summary".to_string(), name.clone()],
            stdin.map(|p| p.as_path()),
            &dir.path().join("run"),
        );
        one_line_naming(&o, &name, &["truncated", "'nodes' has 10 values"]);
        // A run of leakhunt itself takes about 15 MiB; 1 Mi records reserved for a stream
        // of unknown length add at most 28 MiB.
        assert!(o.max_rss_kb < 64 * 1024, "{name}: {} KiB", o.max_rss_kb);
    }
}

/// Edges before nodes (and strings first) read as the usual order does; this panicked.
#[test]
pub(super) fn sections_in_another_order_give_the_same_answers() {
    let l = source_ladder();
    let text = String::from_utf8(l.texts[2].clone()).unwrap();
    let secs = sections(text.as_bytes());
    let part = |k: &str| &text[secs[k].0..secs[k].1];
    let reordered = format!(
        "{{{},{},{},{},{}}}",
        part("strings"),
        part("snapshot"),
        part("edges"),
        part("locations"),
        part("nodes")
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("reordered.heapsnapshot");
    std::fs::write(&file, reordered).unwrap();
    let original = path_str(&l.files[2]);
    for args in [
        vec!["summary", "--json"],
        vec!["retainers", "--class", "UserProfile", "--json"],
    ] {
        let run = |f: &str| {
            let mut a = args.clone();
            a.insert(1, f);
            let mut v = leakhunt_json(&a);
            v.as_object_mut().unwrap().remove("file");
            v
        };
        assert_eq!(run(original), run(path_str(&file)), "{args:?}");
    }
    let out = leakhunt(&[
        "leaks",
        path_str(&l.files[0]),
        path_str(&l.files[1]),
        path_str(&file),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
