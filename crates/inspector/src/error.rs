//! One error type for the whole crate.
//!
//! Messages are written for the person running leakhunt: one line saying what
//! went wrong and, where it helps, what to do. Variants that concern the
//! launched service carry its last output lines, because "exited with status 1"
//! alone is useless when the real reason is three lines up in the service log.
//!
//! An `io::Error` that a message already quotes is a plain field, not a `source()`: error
//! reporters that print the chain (anyhow's `{:#}`) would say it twice.

use std::io;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum InspectorError {
    #[error("the command is empty")]
    EmptyCommand,

    /// Launching a service and attaching by PID need Unix process groups and signals.
    #[error("{what} is supported on Unix only so far; attach to an inspector with --inspect-url or --inspect-port")]
    Unsupported { what: &'static str },

    #[error("command not found: {program}")]
    CommandNotFound { program: String },

    #[error("could not start {program}: {error}")]
    Spawn { program: String, error: io::Error },

    /// The guardian process (see `guardian.rs`) could not be started or did not answer.
    #[error("leakhunt's guardian process failed: {reason}")]
    Guardian { reason: String },

    #[error("this program cannot launch services: call leakhunt_inspector::run_guardian_if_requested() first thing in main, or set LaunchOptions::guardian")]
    NoGuardian,

    /// The launched command ended before a usable inspector appeared (or right after).
    #[error(
        "{program} exited ({status}) before the inspector could be used{}",
        tail(last_output)
    )]
    Exited {
        program: String,
        status: String,
        last_output: Vec<String>,
    },

    /// The launched command ended after its inspector was found.
    #[error("{program} exited ({status}){}", short_tail(last_output))]
    Ended {
        program: String,
        status: String,
        last_output: Vec<String>,
    },

    #[error("{program} printed no `Debugger listening on ws://…` line within {}s{hint}{}", timeout.as_secs_f32(), tail(last_output))]
    BannerTimeout {
        program: String,
        timeout: Duration,
        /// Extra explanation, e.g. which launcher processes did open an inspector.
        hint: String,
        last_output: Vec<String>,
    },

    #[error("refusing to connect to {host} ({url}): only loopback inspectors (127.0.0.0/8, ::1, localhost) are allowed, because an inspector port gives full code execution in the target")]
    NotLoopback { url: String, host: String },

    #[error("invalid inspector URL {0}")]
    BadUrl(#[from] leakhunt_http_wire::UrlError),

    #[error("refusing the inspector{whose} on {addr}: it listens on every network interface, so anyone who can reach this machine can run code in that process; leakhunt uses only inspectors on loopback (restart it with --inspect=127.0.0.1:{port})")]
    Exposed {
        addr: String,
        port: u16,
        /// " of process N" when known.
        whose: String,
    },

    #[error("cannot open the inspector of process {pid}: Node opens it on 127.0.0.1:9229 on SIGUSR1, and {holder} holds that port; close that inspector, or start {pid} with --inspect=127.0.0.1:0 and use --inspect-port")]
    DefaultPortTaken { pid: u32, holder: String },

    #[error("could not close the inspector leakhunt opened in process {pid}: {addr} still listens (it stays open until that process exits)")]
    StillOpen { pid: u32, addr: String },

    #[error("nothing listens on {addr}")]
    NothingListening { addr: String },

    #[error("{addr} is not a Node.js inspector: {reason}")]
    NotInspector { addr: String, reason: String },

    #[error("no process {pid}")]
    NoSuchProcess { pid: u32 },

    #[error("not allowed to signal process {pid} (it belongs to another user?)")]
    PermissionDenied { pid: u32 },

    #[error("process {pid} ({name}) does not look like Node.js: {reason}")]
    NotNode {
        pid: u32,
        name: String,
        reason: String,
    },

    #[error("process {pid} did not open an inspector within {}s after SIGUSR1{hint}", timeout.as_secs_f32())]
    PidAttachTimeout {
        pid: u32,
        timeout: Duration,
        hint: String,
    },

    #[error("the inspector at {url} is held by process {actual}, not {expected}: is another Node already using port 9229?")]
    WrongProcess {
        url: String,
        expected: u32,
        actual: u32,
    },

    #[error("HTTP GET {url}: {reason}")]
    Http { url: String, reason: String },

    #[error("WebSocket handshake with {url} failed: {reason}")]
    Handshake { url: String, reason: String },

    /// The WebSocket broke or was closed; almost always the target exited or crashed.
    #[error("the inspector connection closed during {during} (did the target exit or crash?){}", detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Disconnected {
        during: String,
        detail: Option<String>,
    },

    /// The target finished (crashed, or called `process.exit`) and waits for its inspector
    /// clients to disconnect before it exits.
    #[error("the target ended during {during} and waits for the inspector to disconnect")]
    TargetEnded { during: String },

    #[error("{method} failed: {message} (code {code})")]
    Command {
        method: String,
        code: i64,
        message: String,
    },

    #[error("timed out after {}s waiting for {what}", timeout.as_secs_f32())]
    Timeout { what: String, timeout: Duration },

    #[error("evaluating `{expression}` threw: {description}")]
    Evaluate {
        expression: String,
        description: String,
    },

    #[error("unexpected inspector message: {0}")]
    Protocol(String),

    /// The caller's sink refused a snapshot chunk. The snapshot was still drained
    /// from the target, so the session stays usable.
    #[error("writing the heap snapshot failed: {0}")]
    Sink(io::Error),

    #[error("{context}: {error}")]
    Io { context: String, error: io::Error },
}

impl InspectorError {
    pub(crate) fn io(context: impl Into<String>, error: io::Error) -> Self {
        InspectorError::Io {
            context: context.into(),
            error,
        }
    }

    /// The target's last output lines, for variants that carry them.
    pub fn last_output(&self) -> &[String] {
        match self {
            InspectorError::Exited { last_output, .. }
            | InspectorError::Ended { last_output, .. }
            | InspectorError::BannerTimeout { last_output, .. } => last_output,
            _ => &[],
        }
    }
}

/// Formats the last lines of output under an error message (at most 15 here; the
/// full tail stays available through [`InspectorError::last_output`]).
fn tail(lines: &[String]) -> String {
    if lines.is_empty() {
        return "; it printed nothing".to_string();
    }
    let skip = lines.len().saturating_sub(15);
    let mut s = String::from("; its last output:");
    for l in &lines[skip..] {
        s.push_str("\n    ");
        s.push_str(l);
    }
    s
}

/// The lines that explain the end (see [`crate::last_words`]), on the error's own line.
fn short_tail(lines: &[String]) -> String {
    let words = crate::output::last_words(lines);
    if words.is_empty() {
        return "; it printed nothing".to_string();
    }
    format!("; its last output: {}", words.join(" | "))
}

pub type Result<T, E = InspectorError> = std::result::Result<T, E>;
