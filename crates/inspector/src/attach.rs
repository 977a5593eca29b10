//! Finding an inspector to talk to: from a `ws://` URL, a port, or a PID.
//!
//! Safety rule: we only ever connect to loopback. A Node inspector runs any
//! code it is sent, so pointing leakhunt at a remote one would be remote code
//! execution by design, and a non-loopback inspector is itself a hole worth
//! refusing to normalise. Host names other than `localhost` are refused outright
//! rather than resolved, so DNS cannot send us elsewhere.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use leakhunt_http_wire::{ws_host_port, Host};

use crate::error::{InspectorError, Result};
use crate::http::{self, TargetInfo};
use crate::procs;
use crate::session::Session;

/// Timeout for one `/json/list` request on loopback.
pub(crate) const HTTP_TIMEOUT: Duration = Duration::from_secs(2);
/// How long `attach_pid` waits for Node to open its inspector after SIGUSR1.
const PID_ATTACH_TIMEOUT: Duration = Duration::from_secs(5);

/// An inspector WebSocket endpoint on loopback, ready for [`Session::connect`].
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `ws://127.0.0.1:PORT/UUID`
    pub ws_url: String,
    /// Address of the inspector's HTTP/WebSocket server.
    pub addr: SocketAddr,
    /// The target's main script path (from `/json/list`), when known.
    pub title: Option<String>,
    /// The target's `file://` URL (from `/json/list`), when known.
    pub target_url: Option<String>,
    /// Something the user should know about this inspector (e.g. that it was open before
    /// leakhunt came, and stays open).
    pub notice: Option<String>,
    /// Set when leakhunt opened this inspector (SIGUSR1): it is closed again once the last
    /// endpoint or session holding it goes.
    pub(crate) opened: Option<Arc<Opened>>,
}

impl Endpoint {
    /// Opens a CDP session to this endpoint.
    pub fn connect(&self) -> Result<Session> {
        let mut session = Session::connect(&self.ws_url)?;
        session.opened = self.opened.clone();
        Ok(session)
    }

    /// Whether leakhunt opened this inspector (and will close it again).
    pub fn opened_by_us(&self) -> bool {
        self.opened.is_some()
    }

    fn from_target(addr: SocketAddr, t: &TargetInfo) -> Result<Endpoint> {
        let ws = t
            .web_socket_debugger_url
            .clone()
            .ok_or_else(|| InspectorError::NotInspector {
                addr: addr.to_string(),
                reason:
                    "its target has no webSocketDebuggerUrl (is another debugger already attached?)"
                        .into(),
            })?;
        let (_, checked) = parse_ws_url(&ws)?;
        Ok(Endpoint {
            ws_url: ws,
            addr: checked,
            title: Some(t.title.clone()).filter(|s| !s.is_empty()),
            target_url: Some(t.url.clone()).filter(|s| !s.is_empty()),
            notice: None,
            opened: None,
        })
    }
}

/// Parses `ws://host:port/path`, refusing anything not on loopback. Returns the
/// URL and the socket address to dial (always an IP, never a name to resolve).
pub(crate) fn parse_ws_url(url: &str) -> Result<(String, SocketAddr)> {
    let host_port = ws_host_port(url)?;
    let ip = loopback_ip(host_port.host()).ok_or_else(|| InspectorError::NotLoopback {
        url: url.to_string(),
        host: host_port.host().to_string(),
    })?;
    Ok((url.to_string(), SocketAddr::new(ip, host_port.port())))
}

/// The IP to dial for `host` if it is loopback; `None` otherwise.
fn loopback_ip(host: &Host<String>) -> Option<IpAddr> {
    let ip = match host {
        // Node binds 127.0.0.1 by default; do not let the resolver pick ::1.
        Host::Domain(name) if name == "localhost" => return Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        Host::Domain(_) => return None,
        Host::Ipv4(ip) => IpAddr::V4(*ip),
        Host::Ipv6(ip) => IpAddr::V6(*ip),
    };
    let loopback = match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    };
    loopback.then_some(ip)
}

/// `--inspect-url ws://…`: checks the URL (loopback only); does not connect.
pub fn attach_url(url: &str) -> Result<Endpoint> {
    let (ws_url, addr) = parse_ws_url(url.trim())?;
    refuse_exposed(&procs::listeners_on(addr.port()), None)?;
    Ok(Endpoint {
        ws_url,
        addr,
        title: None,
        target_url: None,
        notice: None,
        opened: None,
    })
}

/// `--inspect-port N`: asks `http://127.0.0.1:N/json/list` and takes the first target.
pub fn attach_port(port: u16) -> Result<Endpoint> {
    refuse_exposed(&procs::listeners_on(port), None)?;
    endpoint_at(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
}

/// An inspector listening on every interface (0.0.0.0, ::) is open to the network: anyone
/// who reaches the machine can run code in the process. leakhunt does not use such an
/// inspector, as it does not dial a remote one (see [`parse_ws_url`]).
fn refuse_exposed(listeners: &[procs::Listener], pid: Option<u32>) -> Result<()> {
    // A listener on 127.0.0.1 itself takes our connection, whatever else shares the port.
    if listeners
        .iter()
        .any(|l| l.reachable_on_loopback() && !l.on_all_interfaces())
    {
        return Ok(());
    }
    match listeners.iter().find(|l| l.on_all_interfaces()) {
        Some(l) => Err(InspectorError::Exposed {
            addr: SocketAddr::new(l.ip, l.port).to_string(),
            port: l.port,
            whose: pid.map(|p| format!(" of process {p}")).unwrap_or_default(),
        }),
        None => Ok(()),
    }
}

fn endpoint_at(addr: SocketAddr) -> Result<Endpoint> {
    let targets = http::json_list(addr, HTTP_TIMEOUT)?;
    let first = targets
        .first()
        .ok_or_else(|| InspectorError::NotInspector {
            addr: addr.to_string(),
            reason: "/json/list is empty".into(),
        })?;
    Endpoint::from_target(addr, first)
}

/// `--pid N`: makes a running Node open its inspector and finds it.
///
/// An inspector the process already has (started with `--inspect`, or opened by someone
/// else) is used as it is and left open; the endpoint's notice says so. Otherwise Node opens
/// its inspector on 127.0.0.1:9229 when it receives SIGUSR1; before sending it we check that
/// the process runs node (`/proc/PID/exe`) and *catches* SIGUSR1 (`SigCgt` in
/// /proc/PID/status): for other programs SIGUSR1 means something else, and by default it
/// terminates them. We also check that 9229 is free: if another process holds it, the target
/// cannot open its inspector there, and we name the holder instead of waiting for nothing.
/// The inspector is then found among the process's own listening sockets (/proc/PID/fd +
/// /proc/PID/net/tcp), not by trusting port 9229, and closed again when the last endpoint or
/// session holding it is dropped (or on Ctrl-C, see `cleanup.rs`). Inspectors on every
/// interface are refused (see `refuse_exposed`).
///
/// Unix only: elsewhere there is no SIGUSR1 to send.
pub fn attach_pid(pid: u32) -> Result<Endpoint> {
    #[cfg(unix)]
    return attach_pid_unix(pid);
    #[cfg(not(unix))]
    {
        let _ = pid;
        Err(InspectorError::Unsupported {
            what: "attaching by PID (--pid)",
        })
    }
}

#[cfg(unix)]
fn attach_pid_unix(pid: u32) -> Result<Endpoint> {
    if pid == 0 || pid > i32::MAX as u32 {
        return Err(InspectorError::NoSuchProcess { pid });
    }
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    if unsafe { libc::kill(pid as i32, 0) } != 0 {
        return Err(match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::EPERM) => InspectorError::PermissionDenied { pid },
            _ => InspectorError::NoSuchProcess { pid },
        });
    }
    if !procs::running(pid) {
        return Err(InspectorError::NoSuchProcess { pid });
    }
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into());

    // Already inspectable (started with --inspect, or opened by someone else)?
    if let Some(mut ep) = own_inspector(pid)? {
        ep.notice = Some(format!(
            "the inspector of process {pid} was already open (on {}) before leakhunt; leakhunt leaves it open",
            ep.addr
        ));
        return Ok(ep);
    }
    check_is_node(pid, &name)?;
    if !procs::sets_inspect_port(pid) {
        check_default_port_free(pid)?;
    }
    // SAFETY: plain syscall; the process is node and catches SIGUSR1 (checked above).
    if unsafe { libc::kill(pid as i32, libc::SIGUSR1) } != 0 {
        return Err(InspectorError::NoSuchProcess { pid });
    }
    let start = Instant::now();
    let default_addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9229);
    let can_see_sockets = std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok();
    while start.elapsed() < PID_ATTACH_TIMEOUT {
        if !procs::running(pid) {
            return Err(InspectorError::NoSuchProcess { pid });
        }
        if can_see_sockets {
            if let Some(ep) = opened_inspector(pid)? {
                return Ok(ep);
            }
        } else if let Ok(mut ep) = endpoint_at(default_addr) {
            // Cannot see its sockets: try the default port and verify the pid over CDP.
            verify_pid(&ep, pid)?;
            ep.opened = Some(Opened::new(pid, &ep));
            return Ok(ep);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(InspectorError::PidAttachTimeout {
        pid,
        timeout: PID_ATTACH_TIMEOUT,
        hint: match http::json_list(default_addr, HTTP_TIMEOUT) {
            Ok(_) => " (127.0.0.1:9229 is held by another inspector, so this Node could not open its own there; \
                       stop that process or start the target with --inspect)"
                .into(),
            Err(_) => " (is it really Node, and not started with --disable-sigusr1? its stderr may say why)".into(),
        },
    })
}

/// The inspector that appeared after our SIGUSR1, owned from now on: closed again on drop.
fn opened_inspector(pid: u32) -> Result<Option<Endpoint>> {
    let listeners = procs::listeners_of(pid);
    let Some(mut ep) = find_inspector(&listeners) else {
        return Ok(None);
    };
    ep.opened = Some(Opened::new(pid, &ep));
    // Node binds where its --inspect-port says, which may be every interface: then close it
    // again (dropping `ep` does) and refuse.
    refuse_exposed(&on_port(&listeners, ep.addr.port()), Some(pid))?;
    Ok(Some(ep))
}

/// An inspector `pid` already has, if any.
fn own_inspector(pid: u32) -> Result<Option<Endpoint>> {
    let listeners = procs::listeners_of(pid);
    let Some(ep) = find_inspector(&listeners) else {
        return Ok(None);
    };
    refuse_exposed(&on_port(&listeners, ep.addr.port()), Some(pid))?;
    Ok(Some(ep))
}

fn on_port(listeners: &[procs::Listener], port: u16) -> Vec<procs::Listener> {
    listeners
        .iter()
        .copied()
        .filter(|l| l.port == port)
        .collect()
}

/// The first of these sockets that answers `/json/list` as an inspector.
fn find_inspector(listeners: &[procs::Listener]) -> Option<Endpoint> {
    let mut ports: Vec<u16> = listeners
        .iter()
        .filter(|l| l.reachable_on_loopback())
        .map(|l| l.port)
        .collect();
    ports.dedup();
    // Node's default first, then the rest (the service's own HTTP port answers /json/list
    // with something that is not a target list and is skipped).
    ports.sort_by_key(|&p| p != 9229);
    ports
        .into_iter()
        .find_map(|port| endpoint_at(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)).ok())
}

/// Only Node opens an inspector on SIGUSR1; to other programs the signal means something
/// else (log rotation, a dump) or, by default, death.
fn check_is_node(pid: u32, name: &str) -> Result<()> {
    let not_node = |reason: String| InspectorError::NotNode {
        pid,
        name: name.to_string(),
        reason,
    };
    if let Some(program) = procs::program(pid) {
        if !is_node_binary(&program) {
            return Err(not_node(format!(
                "it runs {program}, and only node opens an inspector on SIGUSR1 (to other programs the signal means something else, or death)"
            )));
        }
    }
    match catches_sigusr1(pid) {
        Some(true) => Ok(()),
        Some(false) => Err(not_node(
            "it does not handle SIGUSR1, so sending it (to open the inspector) would kill it; \
             Node started with --disable-sigusr1 behaves the same: start it with --inspect instead"
                .into(),
        )),
        None => Err(not_node(
            "cannot read /proc/PID/status to check that it handles SIGUSR1".into(),
        )),
    }
}

/// `node`, `nodejs`, or a versioned name such as `node20` or `node-v22.3.0`.
pub(crate) fn is_node_binary(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    let Some(rest) = base
        .strip_prefix("nodejs")
        .or_else(|| base.strip_prefix("node"))
    else {
        return false;
    };
    let rest = rest.trim_start_matches(['-', '_']);
    let rest = rest.strip_prefix('v').unwrap_or(rest);
    rest.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Node opens its inspector on 127.0.0.1:9229 on SIGUSR1; when another process holds that
/// port, it prints an error on its own stderr and opens nothing. Say who holds it instead.
fn check_default_port_free(pid: u32) -> Result<()> {
    let default_addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9229);
    if TcpStream::connect_timeout(&default_addr, HTTP_TIMEOUT).is_err() {
        return Ok(());
    }
    let holder = match procs::listener_owner(9229) {
        Some(owner) => Some(owner),
        // Not ours to look into (another user's process): ask the inspector itself.
        None => endpoint_at(default_addr).ok().and_then(|ep| {
            let mut s = Session::connect(&ep.ws_url).ok()?;
            s.evaluate("process.pid").ok()?.as_u64().map(|p| p as u32)
        }),
    };
    if holder == Some(pid) {
        return Ok(());
    }
    Err(InspectorError::DefaultPortTaken {
        pid,
        holder: match holder {
            Some(h) => {
                let name = std::fs::read_to_string(format!("/proc/{h}/comm"))
                    .map(|s| format!(" ({})", s.trim()))
                    .unwrap_or_default();
                format!("process {h}{name}")
            }
            None => "another process".to_string(),
        },
    })
}

/// Connects once and compares `process.pid`; guards the blind 9229 fallback.
fn verify_pid(ep: &Endpoint, pid: u32) -> Result<()> {
    let mut s = ep.connect()?;
    let actual = s.evaluate("process.pid")?.as_u64().unwrap_or(0) as u32;
    if actual != pid {
        return Err(InspectorError::WrongProcess {
            url: ep.ws_url.clone(),
            expected: pid,
            actual,
        });
    }
    Ok(())
}

/// Whether bit SIGUSR1 is set in `SigCgt` of /proc/PID/status.
#[cfg(not(unix))]
fn catches_sigusr1(_pid: u32) -> Option<bool> {
    None
}

/// Whether bit SIGUSR1 is set in `SigCgt` of /proc/PID/status.
#[cfg(unix)]
fn catches_sigusr1(pid: u32) -> Option<bool> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("SigCgt:"))?;
    let mask = u64::from_str_radix(line["SigCgt:".len()..].trim(), 16).ok()?;
    Some(mask & (1u64 << (libc::SIGUSR1 - 1)) != 0)
}

/// An inspector leakhunt opened in a running process (SIGUSR1). Shared by the endpoint and
/// the sessions made from it; when the last of them goes, the inspector is closed again, so
/// that no local user can use it to run code in that process once leakhunt is done.
#[derive(Debug)]
pub(crate) struct Opened {
    pid: u32,
    addr: SocketAddr,
    ws_url: String,
}

impl Opened {
    fn new(pid: u32, ep: &Endpoint) -> Arc<Opened> {
        crate::cleanup::register_opened(pid, &ep.ws_url, ep.addr);
        Arc::new(Opened {
            pid,
            addr: ep.addr,
            ws_url: ep.ws_url.clone(),
        })
    }
}

impl Drop for Opened {
    fn drop(&mut self) {
        if let Err(e) = close_inspector(self.pid, &self.ws_url, self.addr) {
            eprintln!("leakhunt: warning: {e}");
        }
        crate::cleanup::unregister_opened(self.pid);
    }
}

/// Closes the inspector leakhunt opened in `pid` and checks that its port no longer listens.
/// `inspector.close()` (Node ≥ 20.16 reaches it through `process.getBuiltinModule`) or the
/// older `process._debugEnd()`: both end every session, ours included, without a reply.
pub(crate) fn close_inspector(pid: u32, ws_url: &str, addr: SocketAddr) -> Result<()> {
    const CLOSE: &str = "typeof process.getBuiltinModule === 'function' \
        ? process.getBuiltinModule('inspector').close() : process._debugEnd()";
    if !still_listening(pid, addr) {
        return Ok(());
    }
    match Session::connect(ws_url) {
        Ok(mut s) => s.send_and_expect_close(CLOSE, Duration::from_secs(3))?,
        Err(InspectorError::NothingListening { .. }) => return Ok(()),
        Err(e) => return Err(e),
    }
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        if !still_listening(pid, addr) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(InspectorError::StillOpen {
        pid,
        addr: addr.to_string(),
    })
}

/// Whether `pid` still listens on `addr`'s port (by its sockets where we may see them, else
/// by dialling it).
fn still_listening(pid: u32, addr: SocketAddr) -> bool {
    if !procs::running(pid) {
        return false;
    }
    if std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok() {
        return procs::listeners_of(pid)
            .iter()
            .any(|l| l.port == addr.port());
    }
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_only() {
        assert!(parse_ws_url("ws://127.0.0.1:9229/abc").is_ok());
        assert!(parse_ws_url("ws://127.3.4.5:9229/abc").is_ok());
        assert!(parse_ws_url("ws://[::1]:9229/abc").is_ok());
        assert_eq!(
            parse_ws_url("ws://localhost:9229/abc").unwrap().1,
            "127.0.0.1:9229".parse().unwrap()
        );
        for bad in [
            "ws://10.0.0.1:9229/x",
            "ws://0.0.0.0:9229/x",
            "ws://example.com:9229/x",
            "ws://[::]:9229/x",
            "ws://192.168.1.2:9229/x",
        ] {
            assert!(
                matches!(parse_ws_url(bad), Err(InspectorError::NotLoopback { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_ws_url("wss://127.0.0.1:9229/x"),
            Err(InspectorError::BadUrl(_))
        ));
        assert!(matches!(
            parse_ws_url("http://127.0.0.1:9229/x"),
            Err(InspectorError::BadUrl(_))
        ));
        assert!(matches!(
            parse_ws_url("ws://127.0.0.1/x"),
            Err(InspectorError::BadUrl(_))
        ));
        assert!(matches!(
            parse_ws_url("ws://evil@127.0.0.1:1/x"),
            Err(InspectorError::BadUrl(_))
        ));
    }

    #[test]
    fn node_binaries() {
        for yes in [
            "/usr/bin/node",
            "/usr/bin/nodejs",
            "/opt/node-v22.3.0-linux-x64/bin/node",
            "node20",
            "/x/node-18",
            "node_v20.1",
        ] {
            assert!(is_node_binary(yes), "{yes}");
        }
        for no in [
            "/usr/bin/python3",
            "/usr/local/bin/node_exporter",
            "/usr/bin/nodemon",
            "/bin/sh",
            "/usr/bin/bun",
            "nodered",
        ] {
            assert!(!is_node_binary(no), "{no}");
        }
    }
}
