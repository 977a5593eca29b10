//! Starting the command under its guardian (Unix) and waiting for its inspector.

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{is_node_program, LaunchOptions, INSPECT_FLAG};
use crate::attach::Endpoint;
use crate::cleanup;
use crate::error::{InspectorError, Result};
use crate::guardian::{self, Link};
use crate::output::{self, StreamKind};

/// A running service we started. Dropping it stops the service and everything it started.
pub struct Launched {
    /// The guardian process (our child); the service is its child.
    pub(super) guardian: Child,
    pub(super) link: Link,
    pub(super) service_pid: u32,
    pub(super) program: String,
    pub(super) endpoint: Endpoint,
    pub(super) notice: Option<String>,
    pub(super) output: Arc<output::Shared>,
    pub(super) kill_grace: Duration,
    /// How the service ended, once it did.
    pub(super) status: Option<ExitStatus>,
    pub(super) stopped: bool,
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
