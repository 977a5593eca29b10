//! The snapshot cache runs a fixture program once per test run and hands out the same
//! files; copies are the test's own to change.

use leakhunt_testkit::runtime::node;
use leakhunt_testkit::snapshots::{ladder, snapshot, snapshot_copy};

/// A stand-in fixture: writes a different text on every run, so a second run would show.
fn fixture(dir: &std::path::Path, name: &str, body: &str) -> std::path::PathBuf {
    let script = dir.join(name);
    std::fs::write(&script, body).unwrap();
    script
}

#[test]
fn a_fixture_runs_once_and_copies_are_writable() {
    let dir = tempfile::tempdir().unwrap();
    let script = fixture(
        dir.path(),
        "once.js",
        "require('fs').writeFileSync(process.argv[2], String(process.hrtime.bigint()))",
    );
    let first = snapshot(&node(), &script);
    let text = std::fs::read_to_string(&first).unwrap();
    let again = snapshot(&node(), &script);
    assert_eq!(first, again);
    assert_eq!(std::fs::read_to_string(&again).unwrap(), text, "ran twice");
    assert!(std::fs::metadata(&first).unwrap().permissions().readonly());

    let copy = snapshot_copy(&node(), &script, dir.path(), "mine.heapsnapshot");
    std::fs::write(&copy, "changed").unwrap();
    assert_eq!(std::fs::read_to_string(&first).unwrap(), text);
}

#[test]
fn ladders_are_keyed_by_their_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let script = fixture(
        dir.path(),
        "ladder.js",
        "const [dir, n] = process.argv.slice(2);
         for (let i = 1; i <= Number(n); i++)
           require('fs').writeFileSync(require('path').join(dir, `s${i}.heapsnapshot`), `${n}`);",
    );
    let three = ladder(&node(), &script, 3);
    let four = ladder(&node(), &script, 4);
    assert_eq!(three.len(), 3);
    assert_eq!(std::fs::read_to_string(&three[2]).unwrap(), "3");
    assert_eq!(std::fs::read_to_string(&four[3]).unwrap(), "4");
}
