//! The folder a hunt writes its snapshots and report to: created when missing, refused when
//! it already holds an earlier hunt's results, which a hunt would otherwise overwrite
//! without a word (a `--out` reused from the shell history, two CI jobs sharing a folder).
//! Without `--out`, a new folder named after the time the hunt started.

use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutDirError {
    #[error("{} already holds the results of an earlier hunt ({file}): give another --out, or move them away first", dir.display())]
    EarlierResults { dir: PathBuf, file: String },
    #[error("cannot use {} as the output folder: {error}", dir.display())]
    Unusable { dir: PathBuf, error: io::Error },
}

/// Makes `dir` ready for a hunt; true when it was created here.
pub fn prepare(dir: &Path) -> Result<bool, OutDirError> {
    let unusable = |error| OutDirError::Unusable {
        dir: dir.to_path_buf(),
        error,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(unusable)?;
            return Ok(true);
        }
        Err(e) => return Err(unusable(e)),
    };
    let mut earlier: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| is_result(name))
        .collect();
    earlier.sort();
    match earlier.into_iter().next() {
        Some(file) => Err(OutDirError::EarlierResults {
            dir: dir.to_path_buf(),
            file,
        }),
        None => Ok(false),
    }
}

/// Creates `<root>/<UTC time now>` (`20261125-043012`), with `-2`, `-3` … when a hunt started
/// in the same second has it, so that two hunts never share a folder.
pub fn create_timestamped(root: &Path) -> Result<PathBuf, OutDirError> {
    let unusable = |dir: &Path, error| OutDirError::Unusable {
        dir: dir.to_path_buf(),
        error,
    };
    std::fs::create_dir_all(root).map_err(|e| unusable(root, e))?;
    let name = folder_name(jiff::Timestamp::now());
    for n in 1u32.. {
        let dir = match n {
            1 => root.join(&name),
            n => root.join(format!("{name}-{n}")),
        };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(unusable(&dir, e)),
        }
    }
    unreachable!("u32 runs out after four billion hunts in one second")
}

/// `YYYYMMDD-HHMMSS` in UTC: sorts by time, and means the same on every machine.
fn folder_name(time: jiff::Timestamp) -> String {
    time.strftime("%Y%m%d-%H%M%S").to_string()
}

/// Removes `dir` if it is empty (never anything in it).
pub fn remove_if_empty(dir: &Path) {
    let _ = std::fs::remove_dir(dir);
}

/// The names a hunt writes: `report.json` and `s<N>.heapsnapshot`.
fn is_result(name: &str) -> bool {
    name == "report.json"
        || name
            .strip_prefix('s')
            .and_then(|n| n.strip_suffix(".heapsnapshot"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_hunts_own_file_names_are_results() {
        for name in ["report.json", "s1.heapsnapshot", "s12.heapsnapshot"] {
            assert!(is_result(name), "{name}");
        }
        for name in [
            "notes.txt",
            "s.heapsnapshot",
            "sx.heapsnapshot",
            "report.json.partial",
        ] {
            assert!(!is_result(name), "{name}");
        }
    }

    #[test]
    fn folder_names_are_utc_times() {
        let at = |s| folder_name(jiff::Timestamp::from_second(s).unwrap());
        assert_eq!(at(1_795_581_012), "20261125-043012");
        assert_eq!(at(951_782_400), "20000229-000000");
    }

    #[test]
    fn hunts_in_the_same_second_get_folders_of_their_own() {
        let root = tempfile::tempdir().unwrap();
        let dirs: Vec<PathBuf> = (0..3)
            .map(|_| create_timestamped(root.path()).unwrap())
            .collect();
        assert!(dirs.iter().all(|d| d.is_dir()));
        assert_ne!(dirs[0], dirs[1]);
        assert_ne!(dirs[1], dirs[2]);
    }

    #[test]
    fn a_missing_folder_is_created_and_an_empty_one_used() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("a/b");
        assert!(prepare(&out).unwrap());
        assert!(!prepare(&out).unwrap());
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        assert!(!prepare(&out).unwrap());
        std::fs::write(out.join("s2.heapsnapshot"), "earlier").unwrap();
        let err = prepare(&out).unwrap_err().to_string();
        assert!(
            err.contains("s2.heapsnapshot") && err.contains("--out"),
            "{err}"
        );
        remove_if_empty(&out);
        assert!(out.join("s2.heapsnapshot").exists());
    }
}
