//! What leakhunt's tests share (a dev-dependency only, never published):
//!
//! - [`runtime`]: the JavaScript runtimes the tests run (`node` from PATH, Node 24 and Bun
//!   from `.cache/runtimes`, installed by `scripts/install-runtimes.sh`);
//! - [`Service`]: a process started in a process group of its own, killed with its whole
//!   group when the guard is dropped, also when the test panics;
//! - [`wait_until`]: wait for a condition with a generous deadline instead of sleeping a
//!   fixed time;
//! - [`snapshots`]: heap snapshots written by fixture programs, once per test run and shared
//!   by every test (and test process) that asks for the same one;
//! - [`ports`]: a port nothing listens on, held so nothing else can take it.

pub mod ports;
pub mod runtime;
pub mod service;
pub mod snapshots;
mod wait;

pub use service::Service;
pub use wait::{poll_until, wait_until};

use std::path::{Path, PathBuf};

/// The workspace's root folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root")
}

/// `path` as a `&str` (test paths are UTF-8).
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}
