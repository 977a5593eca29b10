//! A process a test started: in a process group of its own, so that when the guard is
//! dropped (the test ended, passed or panicked) the process and everything it started in
//! its group are killed, and none is left to disturb the next tests.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// A running process, killed with its process group on drop.
pub struct Service {
    child: Child,
    /// Its stdout, line by line, when it was piped (read on a thread of its own, so a wait
    /// for a line can have a deadline).
    lines: Option<Receiver<String>>,
}

impl Service {
    /// Starts `cmd` in a new process group. Its stdout, if piped, is read with
    /// [`Service::wait_for_line`].
    pub fn spawn(cmd: &mut Command) -> Service {
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(cmd, 0);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", cmd.get_program()));
        let lines = child.stdout.take().map(read_lines);
        Service { child, lines }
    }

    /// Starts `cmd`, which reports the port it listens on as a line `<prefix><port>` on
    /// stdout once it accepts connections (a server that binds port 0 and says which port
    /// it got: no free port is picked by binding and releasing, which races with every
    /// other process binding ports).
    pub fn spawn_reporting_port(
        cmd: &mut Command,
        prefix: &str,
        deadline: Duration,
    ) -> (Service, u16) {
        cmd.stdout(Stdio::piped());
        let mut service = Service::spawn(cmd);
        let port = service.wait_for_line(deadline, &format!("a line '{prefix}<port>'"), |l| {
            l.trim().strip_prefix(prefix)?.trim().parse().ok()
        });
        (service, port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Its exit status, if it has ended.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    pub fn running(&mut self) -> bool {
        self.try_wait().is_none()
    }

    /// Waits for a stdout line for which `parse` gives a value (earlier lines are skipped);
    /// panics naming `what` if the deadline passes or stdout ends first.
    pub fn wait_for_line<T>(
        &mut self,
        deadline: Duration,
        what: &str,
        mut parse: impl FnMut(&str) -> Option<T>,
    ) -> T {
        let lines = self.lines.as_ref().expect("stdout was not piped");
        let end = Instant::now() + deadline;
        let mut seen = Vec::new();
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(v) = parse(&line) {
                        return v;
                    }
                    seen.push(line);
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("timed out after {deadline:?} waiting for {what}; stdout: {seen:?}")
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().ok();
                    panic!("stdout ended ({status:?}) before {what}; stdout: {seen:?}")
                }
            }
        }
    }

    /// Kills the process group now and reaps the process.
    pub fn kill(&mut self) {
        #[cfg(unix)]
        if let Ok(pgid) = i32::try_from(self.child.id()) {
            // The group may hold processes the service started; they go too.
            signal(-pgid, libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

fn read_lines(stdout: ChildStdout) -> Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Sends `sig` to `pid` (a negative pid: to that process group). Whether it was delivered.
#[cfg(unix)]
pub fn signal(pid: i32, sig: i32) -> bool {
    // SAFETY: kill only sends a signal; it touches no memory of this process.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// Whether `pid` runs: a process that is gone or a zombie (its parent reaps it later) does not.
#[cfg(target_os = "linux")]
pub fn process_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !(state.starts_with('Z') || state.starts_with('X'))
        }
        Err(_) => false,
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::wait_until;

    #[test]
    fn dropping_the_guard_kills_the_whole_group() {
        let mut service = Service::spawn(
            Command::new("sh")
                .args(["-c", "sleep 600 & echo child $!; wait"])
                .stdout(Stdio::piped()),
        );
        let child: u32 = service.wait_for_line(Duration::from_secs(60), "the child's pid", |l| {
            l.strip_prefix("child ")?.parse().ok()
        });
        let pid = service.pid();
        assert!(process_running(child));
        drop(service);
        assert!(!process_running(pid));
        wait_until(
            Duration::from_secs(60),
            "the group's other process to die",
            || !process_running(child),
        );
    }

    #[test]
    fn a_line_is_awaited_and_earlier_ones_skipped() {
        let mut service = Service::spawn(
            Command::new("sh")
                .args(["-c", "echo one; echo port 4242; sleep 600"])
                .stdout(Stdio::piped()),
        );
        let port: u16 = service.wait_for_line(Duration::from_secs(60), "the port", |l| {
            l.strip_prefix("port ")?.parse().ok()
        });
        assert_eq!(port, 4242);
    }
}
