//! Drives a Node.js process's inspector for leakhunt: start the service with
//! the inspector on (or find the inspector of one already running), then force
//! GCs, read heap usage and stream heap snapshots over the Chrome DevTools
//! Protocol.
//!
//! ```no_run
//! use leakhunt_inspector::{install_cleanup_handlers, run_guardian_if_requested, Target};
//! # fn main() -> Result<(), leakhunt_inspector::InspectorError> {
//! run_guardian_if_requested(); // first thing: this program also serves as the guardian
//! install_cleanup_handlers(); // Ctrl-C / panic kill the service too
//! let cmd = vec!["node".to_string(), "server.js".to_string()];
//! let service = Target::launch(&cmd, &[])?;
//! let mut session = service.connect()?;
//! session.enable()?;
//! session.collect_garbage()?;
//! let (used, total) = session.heap_usage()?;
//! session.snapshot_to_file("round-1.heapsnapshot".as_ref(), None)?;
//! drop(session);
//! service.shutdown()?; // or just drop it: everything the service started is stopped
//! # Ok(()) }
//! ```
//!
//! Modules, one job each: [`launch`] starts the service, `guardian` is the
//! process between us and the service that stops all of it whatever happens to
//! us, `output` forwards its output and spots the inspector banner, `attach`
//! finds an inspector by URL/port/PID (loopback only) and closes the ones it
//! opened, `http` is a tiny GET for `/json/list`, `session` speaks CDP,
//! `snapshot` streams snapshots, `procs` reads the process table, `cleanup`
//! makes sure nothing outlives us.
//!
//! Launching (the guardian) and attaching by PID (SIGUSR1) need Unix; the subreaper, the
//! process table and the socket checks are Linux's (elsewhere on Unix the guardian still
//! kills the service's process group). On other systems the crate builds, attaches by URL or
//! port, and says that launching and `--pid` are not supported there.

// Elsewhere than Unix the launch and PID-attach helpers are compiled but not called.
#![cfg_attr(not(unix), allow(dead_code))]

mod attach;
mod cleanup;
mod error;
mod guardian;
mod http;
pub mod launch;
mod output;
mod procs;
mod session;
mod snapshot;

pub use attach::{attach_pid, attach_port, attach_url, Endpoint};
pub use cleanup::{
    await_interrupt, install_cleanup_handlers, kill_all_registered, process_running,
};
pub use error::{InspectorError, Result};
pub use guardian::{run_guardian_if_requested, GUARDIAN_ARG};
pub use http::TargetInfo;
pub use launch::{
    describe_status, is_node_program, LaunchOptions, Launched, DEFAULT_LAUNCHER_PATTERNS,
    INSPECT_FLAG,
};
pub use output::{last_words, Forward, OutputCallback, StreamKind};
pub use session::{Event, MemoryUsage, ScriptInfo, Session};
pub use snapshot::{SnapshotProgress, SnapshotStats};

/// Entry points for getting at a target's inspector.
pub struct Target;

impl Target {
    /// Starts `command` with the inspector on a free loopback port and waits for
    /// it (default options: output forwarded to our stderr, 15 s timeout). See
    /// [`launch`] for how `node` and wrapper commands differ.
    ///
    /// It returns as soon as the inspector listens, which is before the main
    /// script ran (under NODE_OPTIONS so early that `process.argv` is not set
    /// yet). Wait for the service to be ready (its port answering, or
    /// [`Launched::wait_for_output`]) before measuring anything.
    pub fn launch(command: &[String], env: &[(String, String)]) -> Result<Launched> {
        launch::launch(command, env, &LaunchOptions::default())
    }

    /// [`Target::launch`] with options.
    pub fn launch_with(
        command: &[String],
        env: &[(String, String)],
        options: &LaunchOptions,
    ) -> Result<Launched> {
        launch::launch(command, env, options)
    }

    /// An inspector given as `ws://127.0.0.1:PORT/ID` (loopback only).
    pub fn attach_url(url: &str) -> Result<Endpoint> {
        attach::attach_url(url)
    }

    /// The first target of the inspector on `127.0.0.1:port`.
    pub fn attach_port(port: u16) -> Result<Endpoint> {
        attach::attach_port(port)
    }

    /// A running Node process: SIGUSR1 opens its inspector (on 127.0.0.1:9229), which is
    /// closed again when the endpoint and its sessions are dropped.
    pub fn attach_pid(pid: u32) -> Result<Endpoint> {
        attach::attach_pid(pid)
    }
}
