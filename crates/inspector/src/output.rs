//! Reads the launched command's stdout and stderr: forwards each line, keeps the
//! last few for error messages, and spots `Debugger listening on ws://…` banners.
//!
//! One thread per stream. They end on EOF, i.e. when every process holding the
//! pipe (the service and anything it spawned with inherited stdio) is gone;
//! nobody joins them, so a daemon that keeps the pipe open cannot hang us.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Which stream of the launched command a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Stdout,
    Stderr,
}

/// Receives each output line of the launched command (without its newline).
pub type OutputCallback = Arc<dyn Fn(StreamKind, &str) + Send + Sync>;

/// Where the launched command's output goes.
#[derive(Clone)]
pub enum Forward {
    /// Write each line to our stderr, after `prefix` (which may hold ANSI codes;
    /// `suffix` is written after the line, e.g. a colour reset).
    Stderr { prefix: String, suffix: String },
    /// Hand each line (without its newline) to a callback, from the reader threads.
    Callback(OutputCallback),
    /// Drop it (it is still kept in the tail for error messages).
    Discard,
}

impl std::fmt::Debug for Forward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Forward::Stderr { prefix, suffix } => f
                .debug_struct("Stderr")
                .field("prefix", prefix)
                .field("suffix", suffix)
                .finish(),
            Forward::Callback(_) => f.write_str("Callback"),
            Forward::Discard => f.write_str("Discard"),
        }
    }
}

/// A `Debugger listening on ws://…` line seen on stderr.
#[derive(Debug, Clone)]
pub(crate) struct Banner {
    pub ws_url: String,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

struct State {
    tail: VecDeque<String>,
    tail_cap: usize,
    banners: Vec<Banner>,
    open_streams: u8,
}

/// Lines longer than this are cut into pieces (a process printing megabytes
/// without a newline must not make us buffer all of it).
const MAX_LINE: usize = 16 * 1024;

pub(crate) struct Config {
    pub forward: Forward,
    pub show_inspector_messages: bool,
}

impl Shared {
    pub fn new(tail_cap: usize) -> Arc<Shared> {
        Arc::new(Shared {
            state: Mutex::new(State {
                tail: VecDeque::new(),
                tail_cap: tail_cap.max(1),
                banners: Vec::new(),
                open_streams: 2,
            }),
            changed: Condvar::new(),
        })
    }

    pub fn tail(&self) -> Vec<String> {
        self.lock().tail.iter().cloned().collect()
    }

    pub fn banners(&self) -> Vec<Banner> {
        self.lock().banners.clone()
    }

    /// Waits until something changes (new line/banner, EOF) or `timeout` passes.
    pub fn wait(&self, timeout: Duration) {
        let guard = self.lock();
        let _ = self.changed.wait_timeout(guard, timeout);
    }

    /// Waits up to `timeout` for both streams to reach EOF (so the tail holds a
    /// dead process's final words).
    pub fn wait_eof(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut guard = self.lock();
        while guard.open_streams > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            guard = match self.changed.wait_timeout(guard, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panicking callback must not take the tail down with it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(crate) fn spawn_reader(
    stream: impl Read + Send + 'static,
    kind: StreamKind,
    shared: Arc<Shared>,
    config: Arc<Config>,
) {
    let name = match kind {
        StreamKind::Stdout => "leakhunt-stdout",
        StreamKind::Stderr => "leakhunt-stderr",
    };
    let worker = {
        let shared = shared.clone();
        move || read_lines(stream, kind, &shared, &config)
    };
    if std::thread::Builder::new()
        .name(name.into())
        .spawn(worker)
        .is_err()
    {
        // Could not start a thread: count the stream as closed so nobody waits for it.
        let mut st = shared.lock();
        st.open_streams = st.open_streams.saturating_sub(1);
    }
}

fn read_lines(mut stream: impl Read, kind: StreamKind, shared: &Shared, config: &Config) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        pending.extend_from_slice(&buf[..n]);
        let mut start = 0;
        while let Some(pos) = pending[start..].iter().position(|&b| b == b'\n') {
            handle_line(&pending[start..start + pos], kind, shared, config);
            start += pos + 1;
        }
        pending.drain(..start);
        while pending.len() > MAX_LINE {
            let rest = pending.split_off(MAX_LINE);
            handle_line(&pending, kind, shared, config);
            pending = rest;
        }
    }
    if !pending.is_empty() {
        handle_line(&pending, kind, shared, config);
    }
    let mut st = shared.lock();
    st.open_streams = st.open_streams.saturating_sub(1);
    drop(st);
    shared.changed.notify_all();
}

fn handle_line(raw: &[u8], kind: StreamKind, shared: &Shared, config: &Config) {
    let text = String::from_utf8_lossy(raw);
    let line = text.strip_suffix('\r').unwrap_or(&text);
    let banner = if kind == StreamKind::Stderr {
        parse_banner(line)
    } else {
        None
    };
    let noise = kind == StreamKind::Stderr && is_inspector_message(line);
    {
        let mut st = shared.lock();
        if let Some(ws_url) = banner {
            st.banners.push(Banner { ws_url });
        }
        if !noise {
            if st.tail.len() >= st.tail_cap {
                st.tail.pop_front();
            }
            st.tail.push_back(line.to_string());
        }
    }
    shared.changed.notify_all();
    if noise && !config.show_inspector_messages {
        return;
    }
    match &config.forward {
        Forward::Stderr { prefix, suffix } => {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{prefix}{line}{suffix}");
        }
        Forward::Callback(f) => f(kind, line),
        Forward::Discard => {}
    }
}

/// The few lines of a process's last output that explain how it ended: the last error line
/// (`TypeError: …`, `Error [ERR_X]: …`, `FATAL ERROR: …`) and the stack frame under it, or
/// else its last three lines. Blank lines and Node's closing `Node.js v20…` are left out.
pub fn last_words(lines: &[String]) -> Vec<String> {
    let lines: Vec<&str> = lines
        .iter()
        .map(|l| l.trim_end())
        .filter(|l| !l.trim().is_empty() && !l.starts_with("Node.js v"))
        .collect();
    if let Some(at) = lines.iter().rposition(|l| is_error_line(l)) {
        let mut words = vec![lines[at].to_string()];
        words.extend(
            lines[at + 1..]
                .iter()
                .take(1)
                .filter(|l| l.trim_start().starts_with("at "))
                .map(|l| l.trim().to_string()),
        );
        return words;
    }
    let skip = lines.len().saturating_sub(3);
    lines[skip..].iter().map(|l| l.to_string()).collect()
}

/// `Error: …`, `TypeError: …`, `Error [ERR_X]: …`, `MyException: …`, `FATAL ERROR: …`.
fn is_error_line(line: &str) -> bool {
    if line.starts_with("FATAL ERROR") || line.starts_with("Uncaught ") {
        return true;
    }
    let Some((name, _)) = line.split_once(':') else {
        return false;
    };
    let name = name.split(" [").next().unwrap_or(name);
    (name.ends_with("Error") || name.ends_with("Exception"))
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `Debugger listening on ws://127.0.0.1:PORT/UUID` → the URL.
pub(crate) fn parse_banner(line: &str) -> Option<String> {
    let at = line.find("Debugger listening on ws://")?;
    let url = line[at + "Debugger listening on ".len()..]
        .split_whitespace()
        .next()?;
    Some(url.to_string())
}

/// Lines Node's inspector writes to the target's stderr by itself.
pub(crate) fn is_inspector_message(line: &str) -> bool {
    line.starts_with("Debugger listening on ")
        || line.starts_with("For help, see: https://nodejs.org/")
        || line == "Debugger attached."
        || line.starts_with("Debugger ending on ")
        || line.starts_with("Waiting for the debugger to disconnect")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner() {
        assert_eq!(
            parse_banner(
                "Debugger listening on ws://127.0.0.1:35127/cba6b4d0-61a0-48ca-8efe-106b007969d7"
            )
            .as_deref(),
            Some("ws://127.0.0.1:35127/cba6b4d0-61a0-48ca-8efe-106b007969d7")
        );
        assert_eq!(parse_banner("Debugger attached."), None);
        assert!(is_inspector_message(
            "For help, see: https://nodejs.org/en/docs/inspector"
        ));
        assert!(!is_inspector_message("listening on 3000"));
    }

    #[test]
    fn last_words_find_the_error() {
        let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let crash = lines(&[
            "listening",
            "/srv/app.js:6",
            "  if (n === 300) throw new Error('boom');",
            "                 ^",
            "",
            "Error: boom",
            "    at Server.<anonymous> (/srv/app.js:6:24)",
            "    at Server.emit (node:events:524:28)",
            "",
            "Node.js v20.20.2",
        ]);
        assert_eq!(
            last_words(&crash),
            ["Error: boom", "at Server.<anonymous> (/srv/app.js:6:24)"]
        );
        let coded = lines(&["Error [ERR_MODULE_NOT_FOUND]: Cannot find module 'x'"]);
        assert_eq!(last_words(&coded), coded);
        let plain = lines(&["a", "b", "", "c", "d"]);
        assert_eq!(last_words(&plain), ["b", "c", "d"]);
        assert!(last_words(&[]).is_empty());
        assert!(!is_error_line("note: Error handling is on"));
    }

    #[test]
    fn lines_tail_and_long_lines() {
        let shared = Shared::new(3);
        let cfg = Config {
            forward: Forward::Discard,
            show_inspector_messages: false,
        };
        let mut input = b"a\r\nb\nDebugger attached.\nc\nd\n".to_vec();
        input.extend(vec![b'x'; MAX_LINE + 5]);
        read_lines(&input[..], StreamKind::Stderr, &shared, &cfg);
        let tail = shared.tail();
        assert_eq!(tail.len(), 3);
        assert_eq!(tail[0], "d");
        assert_eq!(tail[1].len(), MAX_LINE);
        assert_eq!(tail[2], "xxxxx");
    }
}
