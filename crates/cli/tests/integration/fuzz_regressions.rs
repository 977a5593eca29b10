//! Inputs the fuzzer (`fuzz/`, run by `bench/fuzz.sh`) found crashing, kept as fixtures in
//! crates/engine/tests/fixtures/fuzz. Each goes through the fuzz target's own check (the
//! reader and every analysis, in this process, with overflow checks on) and through every
//! command: an answer or one line of error, never a panic.

#[path = "../../../../fuzz/src/check.rs"]
mod check;

use crate::support::*;

fn fixtures() -> Vec<std::path::PathBuf> {
    let dir = repo_root().join("crates/engine/tests/fixtures/fuzz");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

#[test]
fn fuzz_findings_pass_the_fuzz_check() {
    for f in fixtures() {
        let bytes = std::fs::read(&f).unwrap();
        let name = f.display().to_string();
        // A panic names the fixture through the hook's message.
        std::panic::catch_unwind(|| check::check(&bytes))
            .unwrap_or_else(|_| panic!("{name} panicked in the fuzz check"));
    }
}

#[test]
fn fuzz_findings_through_every_command() {
    for f in fixtures() {
        let file = path_str(&f);
        for args in [
            vec!["summary", file],
            vec!["retainers", file, "--class", "Object"],
            vec!["retainers", file, "--id", "1"],
            vec!["diff", file, file],
            vec!["leaks", file, file, file],
        ] {
            let out = leakhunt(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            match out.status.code() {
                Some(0 | 1) => {}
                Some(2) => assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}"),
                other => panic!("{args:?}: exit {other:?}: {err}"),
            }
        }
    }
}
