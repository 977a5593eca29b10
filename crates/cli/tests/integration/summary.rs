use crate::support::*;

#[test]
fn counts_planted_objects_and_their_buffers() {
    let dir = tempfile::tempdir().unwrap();
    let snap = write_snapshot(&node(), "planted.js", dir.path(), "planted.heapsnapshot");
    let s = leakhunt_json(&["summary", path_str(&snap), "--json", "--top", "0"]);
    assert_eq!(s["schema_version"], 1);
    let planted = class(&s, "Planted");
    assert_eq!(planted["count"], 1000);
    // Each Planted holds a 10 KB Buffer that nothing else references.
    assert!(planted["retained_size"].as_u64().unwrap() >= 10 * 1000 * 1024);
    assert!(planted["shallow_size"].as_u64().unwrap() < 200 * 1000);
    // Totals are the sum of self sizes: at least what we planted.
    assert!(s["totals"]["total_size"].as_u64().unwrap() > 10 * 1000 * 1024);
    assert!(s["totals"]["nodes"].as_u64().unwrap() > 10_000);
}

#[test]
fn sorts_and_truncates_rows() {
    let dir = tempfile::tempdir().unwrap();
    let snap = write_snapshot(&node(), "planted.js", dir.path(), "planted.heapsnapshot");
    let s = leakhunt_json(&[
        "summary",
        path_str(&snap),
        "--json",
        "--top",
        "5",
        "--sort",
        "count",
    ]);
    let rows = s["classes"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    let counts: Vec<u64> = rows.iter().map(|r| r["count"].as_u64().unwrap()).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
}

#[test]
fn text_table_names_the_file_and_classes() {
    let dir = tempfile::tempdir().unwrap();
    let snap = write_snapshot(&node(), "planted.js", dir.path(), "planted.heapsnapshot");
    let out = leakhunt(&["summary", path_str(&snap), "--top", "40"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("planted.heapsnapshot"), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("Planted "))
        .expect("a Planted row");
    assert!(line.contains("1,000"), "{line}");
    assert!(
        !text.contains('\x1b'),
        "no color codes when NO_COLOR is set or not a terminal"
    );
}

#[test]
fn reads_gzip_and_stdin() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let snap = write_snapshot(&node(), "planted.js", dir.path(), "planted.heapsnapshot");
    let bytes = std::fs::read(&snap).unwrap();
    let gz = dir.path().join("planted.heapsnapshot.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&bytes).unwrap();
    enc.finish().unwrap();
    let s = leakhunt_json(&["summary", path_str(&gz), "--json", "--top", "0"]);
    assert_eq!(class(&s, "Planted")["count"], 1000);

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .args(["summary", "-", "--json", "--top", "0"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(class(&s, "Planted")["count"], 1000);
}
