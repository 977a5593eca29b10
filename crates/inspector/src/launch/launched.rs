//! A launched service, from the moment its guardian reports it: waiting for its inspector,
//! what it is (pid, group, processes, ports, output), and stopping it with everything it
//! started.

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use super::spawn::Launched;
use super::{describe_status, LaunchOptions};
use crate::attach::{parse_ws_url, Endpoint, HTTP_TIMEOUT};
use crate::cleanup;
use crate::error::{InspectorError, Result};
use crate::guardian;
use crate::http;
use crate::procs;
use crate::session::Session;

impl Launched {
    pub(super) fn wait_for_inspector(
        &mut self,
        direct: bool,
        opts: &LaunchOptions,
    ) -> Result<Endpoint> {
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
    pub(super) fn alive_or_exited(&mut self, endpoint: Endpoint) -> Result<Endpoint> {
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
    pub(super) fn exited_error(&mut self, status: ExitStatus) -> InspectorError {
        self.last_words();
        InspectorError::Exited {
            program: self.program.clone(),
            status: describe_status(status),
            last_output: self.output.tail(),
        }
    }

    /// Waits briefly for the output of a service that ended to come through (and that of
    /// anything else still holding its pipes, which is stopped here).
    pub(super) fn last_words(&mut self) {
        self.output.wait_eof(Duration::from_millis(300));
        self.stop();
    }

    /// How the service ended, if it did (asks the guardian without waiting).
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.service_exit()
    }

    pub(super) fn service_exit(&mut self) -> Option<ExitStatus> {
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

    pub(super) fn stop(&mut self) {
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
pub(super) fn wait_exit(child: &mut Child, limit: Duration) -> bool {
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
