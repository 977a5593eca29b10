//! Running the binary under a memory limit and a deadline, watching its peak memory.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

pub(super) struct Outcome {
    /// Exit code, or `None` when a signal ended the run (or the deadline: `hung`).
    pub(super) code: Option<i32>,
    pub(super) signal: Option<i32>,
    pub(super) hung: bool,
    pub(super) stderr: String,
    /// Peak resident memory of the run as last seen while it ran, KiB.
    pub(super) max_rss_kb: i64,
}

/// Runs leakhunt with a memory limit and a deadline; `stdin_file` feeds standard input.
pub(super) fn run_limited(args: &[String], stdin_file: Option<&Path>, scratch: &Path) -> Outcome {
    let err_path = scratch.with_extension("stderr");
    let err_file = std::fs::File::create(&err_path).unwrap();
    // The limit is set by a shell that then becomes leakhunt: a child forked from this
    // (large) test process would start with its memory counted in the peak.
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"ulimit -v "$1" && shift && exec "$@""#)
        .arg("sh")
        .arg((ADDRESS_SPACE / 1024).to_string())
        .arg(env!("CARGO_BIN_EXE_leakhunt"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("LEAKHUNT_TIMINGS")
        .stdout(Stdio::null())
        .stderr(err_file)
        .stdin(match stdin_file {
            Some(f) => Stdio::from(std::fs::File::open(f).unwrap()),
            None => Stdio::null(),
        });
    let child = cmd.spawn().expect("run leakhunt");
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let mut hung = false;
    let mut peak_kb = 0;
    let status = loop {
        let mut status = 0;
        // SAFETY: a plain FFI call with a valid pointer; the child is ours to reap.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            break status;
        }
        assert!(r == 0, "waitpid: {}", std::io::Error::last_os_error());
        // The kernel's own peak (VmHWM) of the running program. The rusage of the exited
        // child would count this test process's memory, which the child shared until exec.
        peak_kb = peak_kb.max(resident_peak_kb(pid));
        if !hung && start.elapsed() > DEADLINE {
            hung = true;
            // SAFETY: kill only signals; the pid is our unreaped child, so it cannot name another process.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    drop(child); // already reaped
    let stderr = String::from_utf8_lossy(&std::fs::read(&err_path).unwrap()).into_owned();
    let (code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else {
        (None, Some(libc::WTERMSIG(status)))
    };
    Outcome {
        code: if hung { None } else { code },
        signal,
        hung,
        stderr,
        max_rss_kb: peak_kb,
    }
}

/// VmHWM of a running process, KiB (0 once it has exited or before it has exec'd).
pub(super) fn resident_peak_kb(pid: libc::pid_t) -> i64 {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return 0;
    };
    let is_leakhunt = status
        .lines()
        .next()
        .is_some_and(|l| l.contains("leakhunt"));
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .filter(|_| is_leakhunt)
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
