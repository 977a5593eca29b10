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

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::attach::{parse_ws_url, Endpoint, HTTP_TIMEOUT};
use crate::cleanup;
use crate::error::{InspectorError, Result};
use crate::guardian::{self, Link};
use crate::http;
use crate::output::{self, Forward, StreamKind};
use crate::procs;
use crate::session::Session;

mod launched;

pub use launched::describe_status;

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

/// A running service we started. Dropping it stops the service and everything it started.
pub struct Launched {
    /// The guardian process (our child); the service is its child.
    guardian: Child,
    link: Link,
    service_pid: u32,
    program: String,
    endpoint: Endpoint,
    notice: Option<String>,
    output: Arc<output::Shared>,
    kill_grace: Duration,
    /// How the service ended, once it did.
    status: Option<ExitStatus>,
    stopped: bool,
}

/// Whether `argv[0]` is node itself (then we can pass the flag directly).
pub fn is_node_program(program: &str) -> bool {
    let base = Path::new(program)
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or(program);
    base == "node" || base == "nodejs" || program.ends_with("/node")
}

/// How long the guardian may take to start the command and say so.
const GUARDIAN_START: Duration = Duration::from_secs(10);

pub(crate) fn launch(
    command: &[String],
    env: &[(String, String)],
    opts: &LaunchOptions,
) -> Result<Launched> {
    let program = command.first().ok_or(InspectorError::EmptyCommand)?.clone();
    let guardian_program = opts
        .guardian
        .clone()
        .or_else(guardian::this_program)
        .ok_or(InspectorError::NoGuardian)?;
    let direct = is_node_program(&program);
    let mut service: Vec<String> = vec![program.clone()];
    let mut notice = None;
    if direct {
        service.push(INSPECT_FLAG.to_string());
    }
    service.extend(command[1..].iter().cloned());
    let mut cmd = Command::new(&guardian_program);
    // Shown by `ps` under our own name (the program itself may be /proc/self/exe).
    if let Some(name) = std::env::args_os().next() {
        cmd.arg0(name);
    }
    cmd.args(guardian::arguments(opts.kill_grace, &service));
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    if !direct {
        let existing: Option<OsString> = env
            .iter()
            .rev()
            .find(|(k, _)| k == "NODE_OPTIONS")
            .map(|(_, v)| OsString::from(v))
            .or_else(|| std::env::var_os("NODE_OPTIONS"));
        let mut value = existing.unwrap_or_default();
        if !value.is_empty() {
            value.push(" ");
        }
        value.push(INSPECT_FLAG);
        cmd.env("NODE_OPTIONS", &value);
        notice = Some(format!(
            "`{program}` is not node itself, so leakhunt set NODE_OPTIONS={} for it; every node process it starts opens an inspector, and leakhunt attaches to the first one that is not a launcher such as npm",
            value.to_string_lossy()
        ));
    }
    if let Some(dir) = &opts.cwd {
        cmd.current_dir(dir);
    }
    let (ours, theirs) =
        UnixStream::pair().map_err(|e| InspectorError::io("creating the guardian's socket", e))?;
    // A group of its own: a Ctrl-C from the terminal (or a kill of our group) reaches only
    // us, and we decide; the guardian outlives a group kill and cleans up.
    cmd.stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().map_err(|e| InspectorError::Guardian {
        reason: format!("cannot run {}: {e}", guardian_program.display()),
    })?;
    let output = output::Shared::new(opts.tail_lines);
    let config = Arc::new(output::Config {
        forward: opts.forward.clone(),
        show_inspector_messages: opts.show_inspector_messages,
    });
    if let Some(out) = child.stdout.take() {
        output::spawn_reader(out, StreamKind::Stdout, output.clone(), config.clone());
    }
    if let Some(err) = child.stderr.take() {
        output::spawn_reader(err, StreamKind::Stderr, output.clone(), config);
    }
    let mut link = Link::new(ours);
    let start = Instant::now();
    while link.reports.pid.is_none()
        && link.reports.error.is_none()
        && !link.reports.closed
        && start.elapsed() < GUARDIAN_START
    {
        link.read(Duration::from_millis(100));
    }
    let Some(service_pid) = link.reports.pid else {
        // The guardian could not start the command (or is not a guardian at all): it exits.
        link.send(guardian::KILL);
        let _ = child.kill();
        let _ = child.wait();
        return Err(match link.reports.error.as_deref() {
            Some("notfound") => InspectorError::CommandNotFound { program },
            Some(e) => InspectorError::Spawn {
                program,
                error: std::io::Error::other(e.to_string()),
            },
            None => {
                output.wait_eof(Duration::from_millis(300));
                InspectorError::Guardian {
                    reason: format!(
                        "{} did not start the command{}",
                        guardian_program.display(),
                        output
                            .tail()
                            .last()
                            .map(|l| format!(": {l}"))
                            .unwrap_or_default()
                    ),
                }
            }
        });
    };
    cleanup::register_launch(child.id(), link.raw_fd(), opts.kill_grace);

    let mut launched = Launched {
        guardian: child,
        link,
        service_pid,
        program,
        endpoint: Endpoint {
            ws_url: String::new(),
            addr: ([127, 0, 0, 1], 0).into(),
            title: None,
            target_url: None,
            notice: None,
            opened: None,
        },
        notice,
        output,
        kill_grace: opts.kill_grace,
        status: None,
        stopped: false,
    };
    // On error `launched` is dropped, which stops everything.
    launched.endpoint = launched.wait_for_inspector(direct, opts)?;
    Ok(launched)
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
