//! Finding an inspector to talk to: from a `ws://` URL, a port, or a PID.
//!
//! Safety rule: we only ever connect to loopback. A Node inspector runs any
//! code it is sent, so pointing leakhunt at a remote one would be remote code
//! execution by design, and a non-loopback inspector is itself a hole worth
//! refusing to normalise. Host names other than `localhost` are refused outright
//! rather than resolved, so DNS cannot send us elsewhere.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use crate::error::{InspectorError, Result};
use crate::http::{self, TargetInfo};
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
}

impl Endpoint {
    /// Opens a CDP session to this endpoint.
    pub fn connect(&self) -> Result<Session> {
        Session::connect(&self.ws_url)
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
        })
    }
}

/// Parses `ws://host:port/path`, refusing anything not on loopback. Returns the
/// URL and the socket address to dial (always an IP, never a name to resolve).
pub(crate) fn parse_ws_url(url: &str) -> Result<(String, SocketAddr)> {
    let bad = |reason: &str| InspectorError::BadUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let rest = if let Some(r) = url.strip_prefix("ws://") {
        r
    } else if url.starts_with("wss://") {
        return Err(bad(
            "wss:// (TLS) is not supported: inspectors on loopback speak plain ws://",
        ));
    } else {
        return Err(bad(
            "expected ws://HOST:PORT/ID, e.g. the URL after `Debugger listening on`",
        ));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(bad("user info in the URL is not supported"));
    }
    let (host, port) = split_host_port(authority).ok_or_else(|| bad("missing or invalid port"))?;
    let ip = loopback_ip(host).ok_or_else(|| InspectorError::NotLoopback {
        url: url.to_string(),
        host: host.to_string(),
    })?;
    Ok((url.to_string(), SocketAddr::new(ip, port)))
}

fn split_host_port(authority: &str) -> Option<(&str, u16)> {
    let (host, port) = if let Some(r) = authority.strip_prefix('[') {
        let end = r.find(']')?;
        (&r[..end], r[end + 1..].strip_prefix(':')?)
    } else {
        authority.rsplit_once(':')?
    };
    let port: u16 = port.parse().ok()?;
    if host.is_empty() || port == 0 {
        return None;
    }
    Some((host, port))
}

/// The IP to dial for `host` if it is loopback; `None` otherwise.
pub(crate) fn loopback_ip(host: &str) -> Option<IpAddr> {
    if host.eq_ignore_ascii_case("localhost") {
        // Node binds 127.0.0.1 by default; do not let the resolver pick ::1.
        return Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let ip: IpAddr = host.parse().ok()?;
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
    Ok(Endpoint {
        ws_url,
        addr,
        title: None,
        target_url: None,
    })
}

/// `--inspect-port N`: asks `http://127.0.0.1:N/json/list` and takes the first target.
pub fn attach_port(port: u16) -> Result<Endpoint> {
    endpoint_at(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
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
/// Node opens its inspector on 127.0.0.1:9229 when it receives SIGUSR1. Before
/// sending it we check that the process exists and that it *catches* SIGUSR1
/// (`SigCgt` in /proc/PID/status): for any other process SIGUSR1's default
/// action is to terminate it, so "attaching" would kill it. We then look for the
/// inspector among the process's own listening sockets (/proc/PID/fd +
/// /proc/PID/net/tcp) instead of trusting port 9229, so a different Node
/// already on 9229 cannot be mistaken for the target; and we check
/// `process.pid` over the connection when we had to fall back to 9229.
pub fn attach_pid(pid: u32) -> Result<Endpoint> {
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
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into());
    if matches!(crate::cleanup::proc_state_and_pgrp(pid), Some(('Z', _))) {
        return Err(InspectorError::NoSuchProcess { pid });
    }
    match catches_sigusr1(pid) {
        Some(true) => {}
        Some(false) => {
            return Err(InspectorError::NotNode {
                pid,
                name,
                reason: "it does not handle SIGUSR1, so sending it (to open the inspector) would kill it; \
                         Node started with --disable-sigusr1 behaves the same: start it with --inspect instead"
                    .into(),
            })
        }
        None => {
            return Err(InspectorError::NotNode {
                pid,
                name,
                reason: "cannot read /proc/PID/status to check that it handles SIGUSR1".into(),
            })
        }
    }

    // Already inspectable (started with --inspect, or signalled before)?
    if let Some(ep) = find_own_inspector(pid) {
        return Ok(ep);
    }
    // SAFETY: plain syscall; the process catches SIGUSR1 (checked above).
    if unsafe { libc::kill(pid as i32, libc::SIGUSR1) } != 0 {
        return Err(InspectorError::NoSuchProcess { pid });
    }
    let start = Instant::now();
    let default_addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9229);
    let can_see_sockets = std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok();
    while start.elapsed() < PID_ATTACH_TIMEOUT {
        if !crate::cleanup::process_running(pid) {
            return Err(InspectorError::NoSuchProcess { pid });
        }
        if let Some(ep) = find_own_inspector(pid) {
            return Ok(ep);
        }
        if !can_see_sockets {
            // Cannot see its sockets: try the default port and verify the pid over CDP.
            if let Ok(ep) = endpoint_at(default_addr) {
                verify_pid(&ep, pid)?;
                return Ok(ep);
            }
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
fn catches_sigusr1(pid: u32) -> Option<bool> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("SigCgt:"))?;
    let mask = u64::from_str_radix(line["SigCgt:".len()..].trim(), 16).ok()?;
    Some(mask & (1u64 << (libc::SIGUSR1 - 1)) != 0)
}

/// An inspector served by one of `pid`'s own listening loopback sockets.
fn find_own_inspector(pid: u32) -> Option<Endpoint> {
    let ports = listening_ports(pid);
    // Node's default first, then the rest (the service's own HTTP port answers
    // /json/list with something that is not a target list and is skipped).
    let mut ordered: Vec<u16> = ports.iter().copied().filter(|&p| p == 9229).collect();
    ordered.extend(ports.iter().copied().filter(|&p| p != 9229));
    ordered
        .into_iter()
        .find_map(|port| endpoint_at(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)).ok())
}

/// TCP ports on which `pid` listens on loopback or on all interfaces.
pub(crate) fn listening_ports(pid: u32) -> Vec<u16> {
    let mut inodes = std::collections::HashSet::new();
    if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
        for e in dir.flatten() {
            if let Ok(target) = std::fs::read_link(e.path()) {
                let t = target.to_string_lossy();
                if let Some(inode) = t.strip_prefix("socket:[").and_then(|s| s.strip_suffix(']')) {
                    inodes.insert(inode.to_string());
                }
            }
        }
    }
    if inodes.is_empty() {
        return Vec::new();
    }
    let mut ports = Vec::new();
    for table in ["tcp", "tcp6"] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            if f.len() < 10 || f[3] != "0A" || !inodes.contains(f[9]) {
                continue;
            }
            let Some((ip_hex, port_hex)) = f[1].split_once(':') else {
                continue;
            };
            let Ok(port) = u16::from_str_radix(port_hex, 16) else {
                continue;
            };
            if proc_ip_reachable_on_loopback(ip_hex) && !ports.contains(&port) {
                ports.push(port);
            }
        }
    }
    ports
}

/// /proc/net/tcp{,6} print addresses as 32-bit words in host byte order.
fn proc_ip_reachable_on_loopback(hex: &str) -> bool {
    let words: Vec<u32> = (0..hex.len() / 8)
        .filter_map(|i| u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16).ok())
        .collect();
    let ip: IpAddr = match words.len() {
        1 => IpAddr::V4(Ipv4Addr::from(words[0].to_ne_bytes())),
        4 => {
            let mut b = [0u8; 16];
            for (i, w) in words.iter().enumerate() {
                b[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(b))
        }
        _ => return false,
    };
    // We always dial 127.0.0.1, which reaches 127.0.0.1, 0.0.0.0 and (dual-stack) :: listeners.
    match ip {
        IpAddr::V4(v4) => v4 == Ipv4Addr::LOCALHOST || v4.is_unspecified(),
        IpAddr::V6(v6) => v6.is_unspecified() || v6.to_ipv4_mapped() == Some(Ipv4Addr::LOCALHOST),
    }
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
            Err(InspectorError::BadUrl { .. })
        ));
        assert!(matches!(
            parse_ws_url("http://127.0.0.1:9229/x"),
            Err(InspectorError::BadUrl { .. })
        ));
        assert!(matches!(
            parse_ws_url("ws://127.0.0.1/x"),
            Err(InspectorError::BadUrl { .. })
        ));
        assert!(matches!(
            parse_ws_url("ws://evil@127.0.0.1:1/x"),
            Err(InspectorError::BadUrl { .. })
        ));
    }

    #[test]
    fn proc_addresses() {
        if cfg!(target_endian = "little") {
            assert!(proc_ip_reachable_on_loopback("0100007F"));
            assert!(proc_ip_reachable_on_loopback("00000000"));
            assert!(!proc_ip_reachable_on_loopback("0101A8C0"));
            assert!(proc_ip_reachable_on_loopback(
                "00000000000000000000000000000000"
            ));
            assert!(proc_ip_reachable_on_loopback(
                "0000000000000000FFFF00000100007F"
            ));
        }
    }
}
