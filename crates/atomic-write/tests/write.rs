//! What an AtomicFile may touch: only its target, never through a link, nothing on failure.

use std::io::Write;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use leakhunt_atomic_write::{remove_unfinished, write, AtomicFile};

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn a_target_that_is_a_symlink_is_replaced_not_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let target = dir.path().join("report.json");
    symlink(&victim, &target).unwrap();
    write(&target, b"{}\n").unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let meta = std::fs::symlink_metadata(&target).unwrap();
    assert!(meta.file_type().is_file(), "the link itself was replaced");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "{}\n");
    assert_eq!(mode(&target), 0o600);
    assert_eq!(names(dir.path()), ["report.json", "victim.txt"]);
}

#[test]
fn links_planted_at_the_old_temporary_names_are_never_followed() {
    // Before: `<target>.partial` was opened with O_TRUNC, following a link planted there.
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let target = dir.path().join("s1.heapsnapshot");
    for planted in ["s1.heapsnapshot.partial", "s1.heapsnapshot.tmp"] {
        symlink(&victim, dir.path().join(planted)).unwrap();
    }
    write(&target, b"snapshot").unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "snapshot");
    assert_eq!(mode(&target), 0o600);
}

#[test]
fn an_existing_file_is_replaced_whole() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.json");
    std::fs::write(&target, "a much longer earlier content").unwrap();
    write(&target, b"new").unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    assert_eq!(names(dir.path()), ["out.json"]);
}

#[test]
fn an_unfinished_file_leaves_nothing_and_the_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("s2.heapsnapshot");
    std::fs::write(&target, "taken earlier").unwrap();
    let mut f = AtomicFile::create(&target).unwrap();
    f.write_all(b"half a snapsh").unwrap();
    let temp = f.temp_path().to_path_buf();
    assert_eq!(temp.parent(), Some(dir.path()), "next to the target");
    let temp_name = temp.file_name().unwrap().to_str().unwrap();
    assert!(
        temp_name.starts_with("s2.heapsnapshot.") && temp_name.ends_with(".partial"),
        "{temp_name}"
    );
    assert_eq!(mode(&temp), 0o600, "private from the first byte");
    drop(f);
    assert_eq!(names(dir.path()), ["s2.heapsnapshot"]);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "taken earlier");
}

#[test]
fn a_failed_rename_removes_the_temporary_file_only() {
    let dir = tempfile::tempdir().unwrap();
    // A folder where the file should go: rename fails.
    let target = dir.path().join("taken");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("inside"), "x").unwrap();
    assert!(write(&target, b"data").is_err());
    assert_eq!(names(dir.path()), ["taken"]);
    assert_eq!(names(&target), ["inside"]);
}

#[test]
fn unfinished_files_can_be_removed_before_exiting() {
    let dir = tempfile::tempdir().unwrap();
    let f = AtomicFile::create(&dir.path().join("s3.heapsnapshot")).unwrap();
    let temp = f.temp_path().to_path_buf();
    assert!(temp.exists());
    remove_unfinished();
    assert!(!temp.exists());
    // A file committed earlier is not in the list.
    let done = dir.path().join("done.json");
    write(&done, b"1").unwrap();
    remove_unfinished();
    assert!(done.exists());
    std::mem::forget(f);
}

#[test]
fn a_missing_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = write(&dir.path().join("no/such/file"), b"x").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}
