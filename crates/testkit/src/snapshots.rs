//! Heap snapshots written by fixture programs, cached once per test run: many tests read
//! the same snapshot of the same program, and writing one means starting a runtime. The
//! first test that asks writes it; the others, in this process or another (nextest runs each
//! test in a process of its own), wait on a file lock and then read the same files.
//!
//! The cache lives in the target folder (`testkit-cache/<run>/`), one folder per run:
//! nextest's run id, or this process for `cargo test`. Folders of earlier runs are removed
//! when a run starts (all but the newest, if it is recent: it may still be running). Cached files are read-only; a test that changes a snapshot changes its
//! own copy ([`snapshot_copy`], [`ladder_copy`]).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// One snapshot: `runtime script OUT`, run in OUT's folder.
pub fn snapshot(runtime: &Path, script: &Path) -> PathBuf {
    let dir = cached(&[runtime, script], &[], |dir| {
        run(Command::new(runtime)
            .arg(script)
            .arg(dir.join("out.heapsnapshot"))
            .current_dir(dir));
    });
    dir.join("out.heapsnapshot")
}

/// A copy of [`snapshot`] at `dir/name`, the test's own.
pub fn snapshot_copy(runtime: &Path, script: &Path, dir: &Path, name: &str) -> PathBuf {
    copy(&snapshot(runtime, script), &dir.join(name))
}

/// A ladder: `runtime script DIR ROUNDS` writes `s1.heapsnapshot` … `sROUNDS.heapsnapshot`
/// into DIR, one process after equal rounds of work.
pub fn ladder(runtime: &Path, script: &Path, rounds: u32) -> Vec<PathBuf> {
    let dir = folder(runtime, script, &[&rounds.to_string()]);
    (1..=rounds)
        .map(|i| dir.join(format!("s{i}.heapsnapshot")))
        .collect()
}

/// The folder DIR after `runtime script DIR ARGS…` wrote its snapshots into it.
pub fn folder(runtime: &Path, script: &Path, args: &[&str]) -> PathBuf {
    cached(&[runtime, script], args, |dir| {
        run(Command::new(runtime).arg(script).arg(dir).args(args));
    })
}

/// Copies of [`ladder`] in `dir`, the test's own, with the same names.
pub fn ladder_copy(runtime: &Path, script: &Path, rounds: u32, dir: &Path) -> Vec<PathBuf> {
    ladder(runtime, script, rounds)
        .iter()
        .map(|f| copy(f, &dir.join(f.file_name().unwrap())))
        .collect()
}

fn run(cmd: &mut Command) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", cmd.get_program()));
    assert!(status.success(), "{cmd:?} failed: {status}");
}

/// A writable copy (the cached file is read-only).
fn copy(from: &Path, to: &Path) -> PathBuf {
    std::fs::copy(from, to)
        .unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
    let mut perms = std::fs::metadata(to).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)] // the test's own file, in its own folder
    perms.set_readonly(false);
    std::fs::set_permissions(to, perms).unwrap();
    to.to_path_buf()
}

/// The folder that `make` filled for this key, made once per run under a file lock.
fn cached(paths: &[&Path], args: &[&str], make: impl FnOnce(&Path)) -> PathBuf {
    let root = run_folder();
    let mut h = DefaultHasher::new();
    paths.hash(&mut h);
    args.hash(&mut h);
    let stem = paths
        .last()
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = format!("{stem}-{:016x}", h.finish());
    let done = root.join(&name);
    let lock_file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join(format!("{name}.lock")))
        .expect("open the cache lock");
    let mut lock = fd_lock::RwLock::new(lock_file);
    let _held = lock.write().expect("lock the cache entry");
    if !done.exists() {
        // Made in a temporary folder and renamed: a test that failed half-way leaves no
        // entry that looks complete.
        let partial = root.join(format!("{name}.partial"));
        let _ = std::fs::remove_dir_all(&partial);
        std::fs::create_dir_all(&partial).unwrap();
        make(&partial);
        for entry in std::fs::read_dir(&partial).unwrap().flatten() {
            let mut perms = entry.metadata().unwrap().permissions();
            perms.set_readonly(true);
            std::fs::set_permissions(entry.path(), perms).unwrap();
        }
        std::fs::rename(&partial, &done).unwrap();
    }
    done
}

/// `<target>/testkit-cache/<run>`, made on first use.
fn run_folder() -> PathBuf {
    let run =
        std::env::var("NEXTEST_RUN_ID").unwrap_or_else(|_| format!("pid-{}", std::process::id()));
    let cache = target_dir().join("testkit-cache");
    let dir = cache.join(run);
    if !dir.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        remove_old_runs(&cache, &dir);
    }
    dir
}

/// Test binaries run from `<target>/<profile>/deps/`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors()
        .find(|d| d.join("CACHEDIR.TAG").exists())
        .or_else(|| exe.ancestors().nth(3))
        .expect("a target folder")
        .to_path_buf()
}

/// Each run's folder holds a few hundred MB: when a run starts, the folders of earlier runs
/// go, but for the newest one (it may still be running beside this one) if it is less than
/// an hour old.
fn remove_old_runs(cache: &Path, current: &Path) {
    const RECENT: Duration = Duration::from_secs(3600);
    let mut others: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(cache)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path() != current)
        .filter_map(|e| Some((e.metadata().and_then(|m| m.modified()).ok()?, e.path())))
        .collect();
    others.sort();
    let keep = others
        .last()
        .filter(|(t, _)| t.elapsed().unwrap_or_default() < RECENT)
        .map(|(_, p)| p.clone());
    for (_, path) in others {
        if Some(&path) != keep.as_ref() {
            // Read-only files in a writable folder can be removed.
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}
