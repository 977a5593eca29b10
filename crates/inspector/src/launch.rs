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

impl Launched {
    fn wait_for_inspector(&mut self, direct: bool, opts: &LaunchOptions) -> Result<Endpoint> {
        let start = Instant::now();
        let mut examined = 0;
        let mut launchers: Vec<String> = Vec::new();
        loop {
            let banners = self.output.banners();
            while examined < banners.len() {
                let ws_url = &banners[examined].ws_url;
                examined += 1;
                let Ok((_, addr)) = parse_ws_url(ws_url) else {
                    continue; // not loopback: not one of ours (we asked for 127.0.0.1)
                };
                let target = http::json_list(addr, HTTP_TIMEOUT).ok().and_then(|list| {
                    list.iter()
                        .find(|t| t.web_socket_debugger_url.as_deref() == Some(ws_url.as_str()))
                        .or(list.first())
                        .cloned()
                });
                let endpoint = Endpoint {
                    ws_url: ws_url.clone(),
                    addr,
                    title: target
                        .as_ref()
                        .map(|t| t.title.clone())
                        .filter(|s| !s.is_empty()),
                    target_url: target
                        .as_ref()
                        .map(|t| t.url.clone())
                        .filter(|s| !s.is_empty()),
                    notice: None,
                    opened: None,
                };
                if direct {
                    return self.alive_or_exited(endpoint);
                }
                let Some(target) = target else {
                    continue; // gone already (a short-lived helper process)
                };
                // The title is argv[1] as given (npm: "/usr/bin/npm"), the url the
                // resolved main module (".../npm/bin/npm-cli.js"): match either.
                if opts
                    .launcher_patterns
                    .iter()
                    .any(|p| target.title.contains(p.as_str()) || target.url.contains(p.as_str()))
                {
                    launchers.push(if target.url.is_empty() {
                        target.title
                    } else {
                        target.url
                    });
                    continue;
                }
                return self.alive_or_exited(endpoint);
            }
            if let Some(status) = self.service_exit() {
                return Err(self.exited_error(status));
            }
            if start.elapsed() >= opts.banner_timeout {
                let hint = if launchers.is_empty() {
                    if direct {
                        String::new()
                    } else {
                        " (does the command start node at all? NODE_OPTIONS must reach it)"
                            .to_string()
                    }
                } else {
                    format!(
                        "; only launcher processes opened an inspector: {} (the service itself never did)",
                        launchers.join(", ")
                    )
                };
                return Err(InspectorError::BannerTimeout {
                    program: self.program.clone(),
                    timeout: opts.banner_timeout,
                    hint,
                    last_output: self.output.tail(),
                });
            }
            self.output.wait(Duration::from_millis(50));
        }
    }

    /// Node prints its banner before running the main script, so a script that
    /// exits at once has a banner too; catch that here rather than on connect.
    fn alive_or_exited(&mut self, endpoint: Endpoint) -> Result<Endpoint> {
        if endpoint.title.is_none() {
            // /json/list did not answer: it may be dying; give it a moment to show.
            std::thread::sleep(Duration::from_millis(50));
        }
        if let Some(status) = self.service_exit() {
            return Err(self.exited_error(status));
        }
        Ok(endpoint)
    }

    /// The launch failed because the command ended before its inspector could be used.
    fn exited_error(&mut self, status: ExitStatus) -> InspectorError {
        self.last_words();
        InspectorError::Exited {
            program: self.program.clone(),
            status: describe_status(status),
            last_output: self.output.tail(),
        }
    }

    /// Waits briefly for the output of a service that ended to come through (and that of
    /// anything else still holding its pipes, which is stopped here).
    fn last_words(&mut self) {
        self.output.wait_eof(Duration::from_millis(300));
        self.stop();
    }

    /// How the service ended, if it did (asks the guardian without waiting).
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.service_exit()
    }

    fn service_exit(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.link.read(Duration::ZERO);
            self.status = self.link.reports.exit;
            if self.status.is_none() && self.link.reports.closed {
                // The guardian is gone without a word (killed): so is the service, by its
                // parent-death signal. The guardian's own end tells how.
                self.status = self.guardian.wait().ok();
            }
        }
        self.status
    }

    /// The inspector we found.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// `ws://127.0.0.1:PORT/UUID`
    pub fn ws_url(&self) -> &str {
        &self.endpoint.ws_url
    }

    /// PID of the command we started (the wrapper, in NODE_OPTIONS mode; the
    /// service's own pid is `process.pid` over the session).
    pub fn pid(&self) -> u32 {
        self.service_pid
    }

    /// Its process group (= [`Launched::pid`]).
    pub fn pgid(&self) -> i32 {
        self.service_pid as i32
    }

    /// PIDs of every process the command started that still runs (itself included), when
    /// the system lets us see them (Linux).
    pub fn processes(&self) -> Vec<u32> {
        procs::descendants(self.guardian.id())
            .into_iter()
            .filter(|p| p.running())
            .map(|p| p.pid)
            .collect()
    }

    /// Loopback-reachable TCP ports the command's processes listen on, their inspectors
    /// left out: where the service listens when it is not where we expect (Linux only;
    /// empty elsewhere).
    pub fn listening_ports(&self) -> Vec<u16> {
        let inspectors: Vec<u16> = self
            .output
            .banners()
            .iter()
            .filter_map(|b| parse_ws_url(&b.ws_url).ok().map(|(_, a)| a.port()))
            .collect();
        let mut ports: Vec<u16> = self
            .processes()
            .into_iter()
            .flat_map(procs::listeners_of)
            .filter(|l| l.reachable_on_loopback() && !inspectors.contains(&l.port))
            .map(|l| l.port)
            .collect();
        ports.sort_unstable();
        ports.dedup();
        // Under NODE_OPTIONS every node process opens an inspector, also those whose
        // banner we never see (their stderr goes elsewhere): ask.
        ports.retain(|&p| {
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], p));
            http::json_list(addr, Duration::from_millis(300)).is_err()
        });
        ports
    }

    /// Set when we had to use NODE_OPTIONS; the caller should show it.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// The last lines the service printed (inspector chatter excluded).
    pub fn recent_output(&self) -> Vec<String> {
        self.output.tail()
    }

    /// Waits until a line among the recent output satisfies `pred` (e.g. the
    /// service's "listening on" line); returns it, or `None` after `timeout`.
    pub fn wait_for_output(
        &self,
        pred: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self.output.tail().into_iter().find(|l| pred(l)) {
                return Some(l);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.output.wait(left.min(Duration::from_millis(100)));
        }
    }

    /// Opens a CDP session to the service.
    pub fn connect(&self) -> Result<Session> {
        Session::connect(&self.endpoint.ws_url)
    }

    /// `Ok` while the command runs; [`InspectorError::Ended`] (with its last output) once
    /// it has ended, after which everything it started is stopped too.
    pub fn check_running(&mut self) -> Result<()> {
        match self.service_exit() {
            Some(status) => {
                self.last_words();
                Err(InspectorError::Ended {
                    program: self.program.clone(),
                    status: describe_status(status),
                    last_output: self.output.tail(),
                })
            }
            None => Ok(()),
        }
    }

    /// Stops the service and everything it started (SIGTERM, the grace period, SIGKILL).
    /// Returns how the command ended.
    pub fn shutdown(mut self) -> Result<ExitStatus> {
        self.stop();
        self.service_exit().ok_or_else(|| {
            InspectorError::Protocol(format!(
                "process {} survived SIGKILL (stuck in the kernel?)",
                self.service_pid
            ))
        })
    }

    fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let guardian = self.guardian.id();
        self.link.send(guardian::STOP);
        // The guardian escalates to SIGKILL after the grace period by itself.
        if !wait_exit(&mut self.guardian, self.kill_grace + Duration::from_secs(3)) {
            self.link.send(guardian::KILL);
            if !wait_exit(&mut self.guardian, Duration::from_secs(2)) {
                // A guardian that does not answer: kill it; its service follows (parent-death
                // signal), and so does the service's group.
                // SAFETY: plain kill(2) on our child and on the group it started.
                unsafe { libc::kill(-(self.service_pid as i32), libc::SIGKILL) };
                let _ = self.guardian.kill();
                let _ = self.guardian.wait();
            }
        }
        self.link.read(Duration::ZERO);
        cleanup::unregister_launch(guardian);
    }
}

/// Waits up to `limit` for `child` to exit (and reaps it).
fn wait_exit(child: &mut Child, limit: Duration) -> bool {
    let start = Instant::now();
    loop {
        if !matches!(child.try_wait(), Ok(None)) {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

impl Drop for Launched {
    fn drop(&mut self) {
        self.stop();
    }
}

impl std::fmt::Debug for Launched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launched")
            .field("program", &self.program)
            .field("pid", &self.service_pid)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

/// "exit status 3", "killed by signal 9 (SIGKILL)".
pub fn describe_status(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    match status.signal() {
        Some(sig) => {
            let name = match sig {
                libc::SIGHUP => " (SIGHUP)",
                libc::SIGINT => " (SIGINT)",
                libc::SIGABRT => " (SIGABRT)",
                libc::SIGKILL => " (SIGKILL)",
                libc::SIGSEGV => " (SIGSEGV)",
                libc::SIGTERM => " (SIGTERM)",
                libc::SIGTRAP => " (SIGTRAP)",
                _ => "",
            };
            format!("killed by signal {sig}{name}")
        }
        None => status.to_string(),
    }
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
