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
//! The child gets its own process group (`process_group(0)`), stdin from
//! /dev/null (a background group reading the terminal would be stopped by
//! SIGTTIN), and piped stdout/stderr that `output.rs` forwards. Stopping kills
//! the whole group; see `cleanup.rs`.

use std::ffi::OsString;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::attach::{parse_ws_url, Endpoint, HTTP_TIMEOUT};
use crate::cleanup;
use crate::error::{InspectorError, Result};
use crate::http;
use crate::output::{self, Forward, StreamKind};
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
    /// Ask the kernel to SIGTERM the child if we die without cleaning up (even
    /// SIGKILL). Linux ties this to the *thread* that spawned the child: if that
    /// thread exits, the child is killed. Launch from a thread that lives as long
    /// as the service should (e.g. the main thread), or turn this off. Default true.
    pub parent_death_signal: bool,
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
            parent_death_signal: true,
        }
    }
}

/// A running service we started. Dropping it kills its whole process group.
pub struct Launched {
    child: Child,
    program: String,
    pgid: i32,
    endpoint: Endpoint,
    notice: Option<String>,
    output: Arc<output::Shared>,
    kill_grace: Duration,
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

pub(crate) fn launch(
    command: &[String],
    env: &[(String, String)],
    opts: &LaunchOptions,
) -> Result<Launched> {
    let program = command.first().ok_or(InspectorError::EmptyCommand)?.clone();
    let direct = is_node_program(&program);
    let mut cmd = Command::new(&program);
    let mut notice = None;
    if direct {
        cmd.arg(INSPECT_FLAG);
    }
    cmd.args(&command[1..]);
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
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if opts.parent_death_signal {
        // SAFETY: getpid is async-signal-safe; the pre_exec closure below only
        // calls prctl/getppid, which are too.
        let parent = unsafe { libc::getpid() };
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGTERM as libc::c_ulong,
                    0,
                    0,
                    0,
                ) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                // We may have died between fork and prctl: then nobody would kill it.
                if libc::getppid() != parent {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
    }
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => InspectorError::CommandNotFound {
            program: program.clone(),
        },
        _ => InspectorError::Spawn {
            program: program.clone(),
            error: e,
        },
    })?;
    let pgid = child.id() as i32;
    cleanup::register_group(pgid);

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

    let mut launched = Launched {
        child,
        program,
        pgid,
        endpoint: Endpoint {
            ws_url: String::new(),
            addr: ([127, 0, 0, 1], 0).into(),
            title: None,
            target_url: None,
        },
        notice,
        output,
        kill_grace: opts.kill_grace,
        stopped: false,
    };
    // On error `launched` is dropped, which kills the group.
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
            if let Some(status) = self.child.try_wait().ok().flatten() {
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
        if let Some(status) = self.child.try_wait().ok().flatten() {
            return Err(self.exited_error(status));
        }
        Ok(endpoint)
    }

    fn exited_error(&mut self, status: ExitStatus) -> InspectorError {
        // Collect its last words (and those of anything else still holding the
        // pipes, which we kill just below).
        self.output.wait_eof(Duration::from_millis(300));
        self.stop();
        InspectorError::Exited {
            program: self.program.clone(),
            status: describe_status(status),
            last_output: self.output.tail(),
        }
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
        self.child.id()
    }

    /// Its process group (= [`Launched::pid`]).
    pub fn pgid(&self) -> i32 {
        self.pgid
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

    /// `Ok` while the command runs; [`InspectorError::Exited`] (with its last
    /// output) once it has ended. Use it to explain a broken session.
    pub fn check_running(&mut self) -> Result<()> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(self.exited_error(status)),
            _ => Ok(()),
        }
    }

    /// Stops the service: SIGTERM to its process group, SIGKILL after the grace
    /// period, and reaps it. Returns how the command ended.
    pub fn shutdown(mut self) -> Result<ExitStatus> {
        self.stop();
        match self.child.try_wait() {
            Ok(Some(status)) => Ok(status),
            Ok(None) => Err(InspectorError::Protocol(format!(
                "process {} survived SIGKILL (stuck in the kernel?)",
                self.child.id()
            ))),
            Err(e) => Err(InspectorError::io("waiting for the service", e)),
        }
    }

    fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        // Kill the group before reaping our child: an unreaped leader keeps the
        // pgid from being reused by an unrelated process meanwhile.
        cleanup::terminate_groups(&[self.pgid], self.kill_grace);
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        cleanup::unregister_group(self.pgid);
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
            .field("pid", &self.child.id())
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
