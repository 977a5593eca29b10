//! leakhunt's side of the guardian (Unix): the socket to it, and what it reports.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

/// What the guardian told us so far.
#[derive(Debug, Default)]
pub(crate) struct Reports {
    pub pid: Option<u32>,
    /// The service's exit status, once it ended.
    pub exit: Option<ExitStatus>,
    /// The service could not be started: `notfound` or the OS error.
    pub error: Option<String>,
    /// The guardian is gone (its end of the socket closed).
    pub closed: bool,
}

/// Our end of the guardian's socket.
pub(crate) struct Link {
    stream: UnixStream,
    pending: Vec<u8>,
    pub reports: Reports,
}

impl Link {
    pub fn new(stream: UnixStream) -> Link {
        Link {
            stream,
            pending: Vec::new(),
            reports: Reports::default(),
        }
    }

    pub fn raw_fd(&self) -> i32 {
        std::os::fd::AsRawFd::as_raw_fd(&self.stream)
    }

    /// Reads what the guardian sent, waiting up to `wait` for something to arrive.
    pub fn read(&mut self, wait: Duration) {
        if self.reports.closed {
            return;
        }
        let _ = self
            .stream
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))));
        let mut buf = [0u8; 256];
        match self.stream.read(&mut buf) {
            Ok(0) => self.reports.closed = true,
            Ok(n) => {
                self.pending.extend_from_slice(&buf[..n]);
                self.parse();
                // More may be waiting; take it without waiting again.
                self.read_ready();
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) => {}
            Err(_) => self.reports.closed = true,
        }
    }

    fn read_ready(&mut self) {
        let _ = self.stream.set_nonblocking(true);
        let mut buf = [0u8; 256];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    self.reports.closed = true;
                    break;
                }
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
        let _ = self.stream.set_nonblocking(false);
        self.parse();
    }

    fn parse(&mut self) {
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(&self.pending[..end]).into_owned();
            self.pending.drain(..=end);
            if let Some(pid) = line.strip_prefix("PID ") {
                self.reports.pid = pid.trim().parse().ok();
            } else if let Some(st) = line.strip_prefix("EXIT ") {
                if let Ok(raw) = st.trim().parse::<i32>() {
                    self.reports.exit = Some(ExitStatus::from_raw(raw));
                }
            } else if let Some(e) = line.strip_prefix("ERR ") {
                self.reports.error = Some(e.to_string());
            }
        }
    }

    /// Sends `STOP` or `KILL`; a guardian that is gone already needs neither.
    pub fn send(&mut self, what: u8) {
        let _ = self.stream.write_all(&[what]);
    }
}
