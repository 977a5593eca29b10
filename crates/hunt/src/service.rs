//! Getting hold of the service: start it with the inspector on a free loopback port and
//! wait until it accepts connections, or attach to one already running; then, while the hunt
//! runs, notice at once when it dies and say why.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use leakhunt_inspector::{describe_status, InspectorError, Launched, Session, Target};
use leakhunt_load::{wait_until_accepting_while, BaseUrl};

use crate::config::TargetSpec;
use crate::events::{HuntEvent, Observer};
use crate::run::HuntError;

/// The service under test and our inspector session to it. A launched service is stopped
/// (with everything it started) when this is dropped; an inspector leakhunt opened (`--pid`)
/// is closed again.
pub struct Service {
    pub session: Session,
    pub base_url: String,
    pub runtime: String,
    /// Kept for its drop: stops the launched service.
    launched: Option<Launched>,
}

/// What is known about a service that ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Death {
    /// How its process ended ("exit status 1"), when we started it.
    pub status: Option<String>,
    /// The uncaught exception that ended it (message and stack), as the inspector told.
    pub exception: Option<String>,
    /// Its last output lines (only for a service we started).
    pub output: Vec<String>,
}

impl Service {
    /// Whether leakhunt started this service (and stops it at the end), rather than attached.
    pub fn is_launched(&self) -> bool {
        self.launched.is_some()
    }

    /// Reads the inspector for up to `wait` (the target's events), then tells whether the
    /// service is gone: its program ended (Node waits for us to disconnect then), the
    /// connection broke, or the process we started exited.
    pub fn watch(&mut self, wait: Duration) -> bool {
        if self.session.connected() && !self.session.target_ended() {
            // A broken connection shows in `connected` below.
            let _ = self.session.poll(wait);
        }
        self.gone()
    }

    /// Whether the service is gone (see [`Service::watch`]), without waiting.
    pub fn gone(&mut self) -> bool {
        !self.session.connected()
            || self.session.target_ended()
            || self
                .launched
                .as_mut()
                .is_some_and(|l| l.exit_status().is_some())
    }

    /// After [`Service::gone`]: what ended it. Reads the uncaught exception from the
    /// inspector, disconnects (Node keeps a crashed process alive while an inspector client
    /// is attached), and for a service we started waits for its exit and last output.
    pub fn death(&mut self) -> Death {
        let exception = if self.session.target_ended() {
            self.session.uncaught_exception(Duration::from_secs(2))
        } else {
            None
        };
        self.session.disconnect();
        let mut death = Death {
            exception,
            ..Death::default()
        };
        if let Some(l) = self.launched.as_mut() {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(5) {
                if let Err(e) = l.check_running() {
                    if let InspectorError::Ended { status, .. } = &e {
                        death.status = Some(status.clone());
                    }
                    death.output = e.last_output().to_vec();
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            if death.status.is_none() {
                death.status = l.exit_status().map(describe_status);
                death.output = l.recent_output();
            }
        }
        death
    }
}

/// A port that was free a moment ago (the service binds it soon after).
fn free_port() -> Result<u16, HuntError> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(HuntError::FreePort)?;
    Ok(l.local_addr().map_err(HuntError::FreePort)?.port())
}

/// The port the user gave the service: `PORT=…` in an `env` prefix of the command (`env
/// PORT=4000 node server.js`), else `inherited`, leakhunt's own `PORT` (unless that `env -i`
/// clears it). `0` or a value that is not a port is not one: the service gets a free port.
fn port_given_by_user(command: &[String], inherited: Option<&str>) -> Option<u16> {
    let port = |value: &str| value.trim().parse::<u16>().ok().filter(|p| *p != 0);
    let mut keeps_environment = true;
    let is_env = command
        .first()
        .is_some_and(|c| std::path::Path::new(c).file_name() == Some("env".as_ref()));
    if is_env {
        for arg in &command[1..] {
            if let Some(value) = arg.strip_prefix("PORT=") {
                return port(value);
            }
            if arg == "-i" || arg == "--ignore-environment" || arg == "-" {
                keeps_environment = false;
            } else if !arg.starts_with('-') && !arg.contains('=') {
                break; // the program: env's own arguments end here
            }
        }
    }
    inherited.filter(|_| keeps_environment).and_then(port)
}

/// How long a service may listen elsewhere, and not where we expect it, before we conclude
/// it ignores $PORT: a service may open an admin or metrics port first, then its main one.
/// Long enough for that, much shorter than the ready timeout a hard-coded port used to cost.
const ELSEWHERE_GRACE: Duration = Duration::from_secs(3);

pub fn start(
    spec: &TargetSpec,
    base_url: Option<&str>,
    ready_timeout: Duration,
    observer: &dyn Observer,
) -> Result<Service, HuntError> {
    let (mut launched, base_url, port_given) = match spec {
        TargetSpec::Launch { command, cwd } => {
            let inherited = std::env::var("PORT").ok();
            let (port, env) = match port_given_by_user(command, inherited.as_deref()) {
                // The user's port stays: their service, their config, maybe a port a proxy
                // or a client of theirs expects.
                Some(port) => (port, Vec::new()),
                None => {
                    let port = free_port()?;
                    (port, vec![("PORT".to_string(), port.to_string())])
                }
            };
            let options = leakhunt_inspector::LaunchOptions {
                cwd: cwd.clone(),
                ..Default::default()
            };
            let l = Target::launch_with(command, &env, &options).map_err(HuntError::Inspector)?;
            observer.event(HuntEvent::Launched {
                ws_url: l.ws_url(),
                notice: l.notice(),
            });
            let url = base_url
                .map(str::to_string)
                .unwrap_or_else(|| format!("http://127.0.0.1:{port}"));
            (Some(l), url, base_url.is_some())
        }
        _ => {
            let endpoint = match spec {
                TargetSpec::Url(u) => Target::attach_url(u),
                TargetSpec::Port(p) => Target::attach_port(*p),
                TargetSpec::Pid(p) => Target::attach_pid(*p),
                TargetSpec::Launch { .. } => unreachable!(),
            }
            .map_err(HuntError::Inspector)?;
            observer.event(HuntEvent::Attached {
                ws_url: &endpoint.ws_url,
                notice: endpoint.notice.as_deref(),
            });
            let url = base_url.map(str::to_string).ok_or(HuntError::NoBaseUrl)?;
            return connect(
                endpoint.connect().map_err(HuntError::Inspector)?,
                url,
                None,
                observer,
            );
        }
    };
    // The inspector answers before the program has even started: wait for its HTTP port.
    let target = BaseUrl::parse(&base_url)?;
    let target = target.host_port();
    let addr = target.to_string();
    let expected_port = Some(target.port());
    let l = launched.as_mut().unwrap();
    let mut exited = None;
    let mut elsewhere: Option<(Instant, Vec<u16>)> = None;
    let mut last_look = Instant::now();
    let waited = wait_until_accepting_while(addr.as_str(), ready_timeout, || {
        if let Err(e) = l.check_running() {
            exited = Some(e);
            return false;
        }
        // A service that ignores $PORT listens somewhere else: say where, soon, rather
        // than wait out the whole timeout. (Looking costs a pass over /proc: not often.)
        if last_look.elapsed() >= Duration::from_millis(250) {
            last_look = Instant::now();
            let ports: Vec<u16> = l
                .listening_ports()
                .into_iter()
                .filter(|&p| Some(p) != expected_port)
                .collect();
            if ports.is_empty() {
                elsewhere = None;
            } else {
                let since = elsewhere.take().map_or_else(Instant::now, |(t, _)| t);
                elsewhere = Some((since, ports));
            }
        }
        !matches!(&elsewhere, Some((since, _)) if since.elapsed() >= ELSEWHERE_GRACE)
    });
    if let Some(e) = exited {
        return Err(HuntError::Inspector(e));
    }
    if waited.is_err() {
        if let Some((_, ports)) = elsewhere {
            return Err(HuntError::ListensElsewhere {
                expected: addr,
                ports,
                port_given,
            });
        }
        let tail = l.recent_output();
        return Err(HuntError::NotReady {
            addr,
            seconds: ready_timeout.as_secs(),
            output: tail,
        });
    }
    let session = l.connect().map_err(HuntError::Inspector)?;
    connect(session, base_url, launched, observer)
}

fn connect(
    mut session: Session,
    base_url: String,
    launched: Option<Launched>,
    observer: &dyn Observer,
) -> Result<Service, HuntError> {
    session.enable().map_err(HuntError::Inspector)?;
    let version = session
        .evaluate("process.version")
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let runtime = if version.is_empty() {
        "node".to_string()
    } else {
        format!("node {version}")
    };
    observer.event(HuntEvent::Ready {
        base_url: &base_url,
        runtime: &runtime,
    });
    Ok(Service {
        session,
        base_url,
        runtime,
        launched,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_the_user_gave_is_kept() {
        let cmd = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        let node = cmd(&["node", "server.js"]);
        assert_eq!(port_given_by_user(&node, Some("4000")), Some(4000));
        assert_eq!(port_given_by_user(&node, None), None);
        assert_eq!(port_given_by_user(&node, Some("0")), None, "0: any port");
        assert_eq!(port_given_by_user(&node, Some("http")), None);
        let env = cmd(&[
            "/usr/bin/env",
            "NODE_ENV=production",
            "PORT=5000",
            "node",
            "s.js",
        ]);
        assert_eq!(port_given_by_user(&env, Some("4000")), Some(5000));
        let cleared = cmd(&["env", "-i", "node", "s.js"]);
        assert_eq!(port_given_by_user(&cleared, Some("4000")), None);
        let after_program = cmd(&["env", "node", "s.js", "PORT=6000"]);
        assert_eq!(port_given_by_user(&after_program, None), None);
    }

    #[test]
    fn ipv6_base_url_without_port_gets_port_80() {
        let url = BaseUrl::parse("http://[::1]/api").unwrap();
        assert_eq!(url.host_port().to_string(), "[::1]:80");
        let url = BaseUrl::parse("HTTP://localhost:3000").unwrap();
        assert_eq!(url.host_port().to_string(), "localhost:3000");
    }
}
