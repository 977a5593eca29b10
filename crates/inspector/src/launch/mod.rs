//! Starting the service with its inspector on, and stopping it for sure.
//!
//! * `node …` (`argv[0]` is `node`/`nodejs` or a path ending in `/node`): we insert
//!   `--inspect=127.0.0.1:0` right after it. Port 0 lets the OS pick a free
//!   port; Node prints the real one in its banner.
//! * anything else (`npm start`, `npx tsx server.ts`, `yarn dev`, a shell
//!   script): we cannot know where node sits in the command line, so we append
//!   `--inspect=127.0.0.1:0` to `NODE_OPTIONS`, which every node process the
//!   command starts inherits, and return a notice saying so. Each such process
//!   opens its own inspector (port 0 again, so they do not collide) and prints
//!   its own banner. The first banner is often *not* the service: `npm start`
//!   is itself a node program, so its banner comes first, and `tsx` starts a
//!   second node for the script. We therefore take the first banner whose
//!   target (`/json/list` title = main script path) is not a known launcher
//!   (see [`LaunchOptions::launcher_patterns`]); with an unknown wrapper that is
//!   simply the first banner.
//!
//! The command runs under a guardian process (see `guardian.rs`): leakhunt re-executed, which
//! starts the command in a process group of its own, with stdin from /dev/null (a background
//! group reading the terminal would be stopped by SIGTTIN) and stdout/stderr into pipes that
//! `output.rs` reads and forwards. Stopping goes through the guardian, which kills the group
//! and everything below it; see `cleanup.rs` for Ctrl-C and panics.

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use crate::output::Forward;

#[cfg(unix)]
mod launched;
#[cfg(unix)]
mod spawn;
#[cfg(not(unix))]
mod unsupported;

#[cfg(unix)]
pub(crate) use spawn::launch;
#[cfg(unix)]
pub use spawn::Launched;
#[cfg(not(unix))]
pub(crate) use unsupported::launch;
#[cfg(not(unix))]
pub use unsupported::Launched;

/// The flag we add; loopback only, OS-chosen port.
pub const INSPECT_FLAG: &str = "--inspect=127.0.0.1:0";

/// Substrings of a target's `/json/list` title (`argv[1]` as given) or url (the
/// resolved main module) that mark a launcher process rather than the service
/// (used only in NODE_OPTIONS mode).
pub const DEFAULT_LAUNCHER_PATTERNS: &[&str] = &[
    "/npm-cli.js",
    "/npx-cli.js",
    "/npm/bin/",
    "/yarn.js",
    "/yarn.cjs",
    "/bin/yarn",
    "/.yarn/releases/",
    "/pnpm.cjs",
    "/pnpm.js",
    "/pnpm/bin/",
    "/corepack",
    "/tsx/dist/cli.",
    "/nodemon/bin/",
    "/ts-node-dev/",
    "/concurrently/",
];

/// How to launch and watch the service.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// How long to wait for `Debugger listening on ws://…` (default 15 s).
    pub banner_timeout: Duration,
    /// Where the service's stdout/stderr lines go (default: our stderr, as is).
    pub forward: Forward,
    /// Also forward Node's own inspector lines (`Debugger listening…`, `For
    /// help, see…`, `Debugger attached.`, `Debugger ending…`). Default false.
    pub show_inspector_messages: bool,
    /// Lines of output kept for error messages (default 50).
    pub tail_lines: usize,
    /// SIGTERM → SIGKILL delay when stopping the group (default 2 s).
    pub kill_grace: Duration,
    /// Working directory of the command (default: ours).
    pub cwd: Option<PathBuf>,
    /// See [`DEFAULT_LAUNCHER_PATTERNS`].
    pub launcher_patterns: Vec<String>,
    /// The program to run as the guardian (see `guardian.rs`), started as `PROGRAM
    /// --leakhunt-guardian …`. Default: this program itself, which must then call
    /// [`run_guardian_if_requested`](crate::run_guardian_if_requested) first thing in `main`.
    pub guardian: Option<PathBuf>,
}

impl Default for LaunchOptions {
    fn default() -> Self {
        LaunchOptions {
            banner_timeout: Duration::from_secs(15),
            forward: Forward::Stderr {
                prefix: String::new(),
                suffix: String::new(),
            },
            show_inspector_messages: false,
            tail_lines: 50,
            kill_grace: Duration::from_secs(2),
            cwd: None,
            launcher_patterns: DEFAULT_LAUNCHER_PATTERNS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            guardian: None,
        }
    }
}

/// Whether `argv[0]` is node itself (then we can pass the flag directly).
pub fn is_node_program(program: &str) -> bool {
    let base = Path::new(program)
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or(program);
    base == "node" || base == "nodejs" || program.ends_with("/node")
}

/// "exit status 3", "killed by signal 9 (SIGKILL)".
pub fn describe_status(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    let signal = std::os::unix::process::ExitStatusExt::signal(&status);
    #[cfg(not(unix))]
    let signal: Option<i32> = None;
    match signal {
        Some(sig) => {
            let name = signal_name(sig).map_or(String::new(), |n| format!(" ({n})"));
            format!("killed by signal {sig}{name}")
        }
        None => status.to_string(),
    }
}

/// The usual name of a signal that ends a process.
#[cfg(unix)]
fn signal_name(sig: i32) -> Option<&'static str> {
    Some(match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGTERM => "SIGTERM",
        libc::SIGTRAP => "SIGTRAP",
        _ => return None,
    })
}

#[cfg(not(unix))]
fn signal_name(_sig: i32) -> Option<&'static str> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_detection() {
        for p in [
            "node",
            "nodejs",
            "/usr/bin/node",
            "./node",
            "/x/node_modules/.bin/node",
        ] {
            assert!(is_node_program(p), "{p}");
        }
        for p in [
            "npm",
            "npx",
            "yarn",
            "sh",
            "/usr/bin/nodemon",
            "node20",
            "tsx",
        ] {
            assert!(!is_node_program(p), "{p}");
        }
    }
}
