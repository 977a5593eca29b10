//! Getting hold of the service: start it with the inspector on a free loopback port and
//! wait until it accepts connections, or attach to one already running.

use std::net::TcpListener;
use std::time::Duration;

use leakhunt_inspector::{Launched, Session, Target};
use leakhunt_load::wait_until_accepting_while;

use crate::config::TargetSpec;
use crate::events::{HuntEvent, Observer};
use crate::run::HuntError;

/// The service under test and our inspector session to it. A launched service is stopped
/// (with its whole process group) when this is dropped.
pub struct Service {
    pub session: Session,
    pub base_url: String,
    pub runtime: String,
    /// Kept for its drop: stops the launched process group.
    launched: Option<Launched>,
}

impl Service {
    /// Fails when a launched service has exited.
    pub fn check_running(&mut self) -> Result<(), HuntError> {
        match self.launched.as_mut() {
            Some(l) => l.check_running().map_err(HuntError::Inspector),
            None => Ok(()),
        }
    }
}

/// A port that was free a moment ago (the service binds it soon after).
fn free_port() -> Result<u16, HuntError> {
    let l = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| HuntError::Io(format!("cannot find a free port: {e}")))?;
    Ok(l.local_addr()
        .map_err(|e| HuntError::Io(e.to_string()))?
        .port())
}

pub fn start(
    spec: &TargetSpec,
    base_url: Option<&str>,
    ready_timeout: Duration,
    observer: &dyn Observer,
) -> Result<Service, HuntError> {
    let (mut launched, base_url) = match spec {
        TargetSpec::Launch { command, cwd } => {
            let port = free_port()?;
            let options = leakhunt_inspector::LaunchOptions {
                cwd: cwd.clone(),
                ..Default::default()
            };
            let env = vec![("PORT".to_string(), port.to_string())];
            let l = Target::launch_with(command, &env, &options).map_err(HuntError::Inspector)?;
            observer.event(HuntEvent::Launched {
                ws_url: l.ws_url(),
                notice: l.notice(),
            });
            let url = base_url
                .map(str::to_string)
                .unwrap_or_else(|| format!("http://127.0.0.1:{port}"));
            (Some(l), url)
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
    let addr = host_port(&base_url)?;
    let l = launched.as_mut().unwrap();
    let mut exited = None;
    let waited =
        wait_until_accepting_while(addr.as_str(), ready_timeout, || match l.check_running() {
            Ok(()) => true,
            Err(e) => {
                exited = Some(e);
                false
            }
        });
    if let Some(e) = exited {
        return Err(HuntError::Inspector(e));
    }
    if waited.is_err() {
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

/// `http://host:port/prefix` → `host:port` (port 80 when absent).
fn host_port(base_url: &str) -> Result<String, HuntError> {
    let rest = base_url
        .strip_prefix("http://")
        .ok_or_else(|| HuntError::BadBaseUrl(base_url.to_string()))?;
    let host = rest.split('/').next().unwrap_or(rest);
    Ok(if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:80")
    })
}
