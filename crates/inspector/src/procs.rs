//! What the system says about processes: state, parent and group, the tree below a process,
//! the program a process runs, and the TCP ports it listens on.
//!
//! Linux reads all of it from /proc. Elsewhere only what `kill(pid, 0)` can tell is known:
//! the tree, the program and the sockets come back empty, and callers fall back to what they
//! can do without them (process groups, the inspector's own answers).

use std::net::IpAddr;
#[cfg(target_os = "linux")]
use std::net::{Ipv4Addr, Ipv6Addr};

/// One line of the process table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Proc {
    pub pid: u32,
    pub ppid: u32,
    pub pgrp: i32,
    /// `R`, `S`, `D`, `Z` (zombie), …
    pub state: char,
}

impl Proc {
    /// Still running: zombies (exited, not reaped yet) do not count.
    pub fn running(&self) -> bool {
        self.state != 'Z' && self.state != 'X'
    }
}

/// `pid`'s entry of the process table, if it exists.
#[cfg(target_os = "linux")]
pub(crate) fn stat(pid: u32) -> Option<Proc> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may itself contain spaces or ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    let pgrp = f.next()?.parse().ok()?;
    Some(Proc {
        pid,
        ppid,
        pgrp,
        state,
    })
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn stat(_pid: u32) -> Option<Proc> {
    None
}

/// Every process we can see.
#[cfg(target_os = "linux")]
pub(crate) fn all() -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(stat)
        .collect()
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn all() -> Vec<Proc> {
    Vec::new()
}

/// Whether `pid` still runs (a zombie counts as gone).
pub(crate) fn running(pid: u32) -> bool {
    match stat(pid) {
        Some(p) => p.running(),
        // No process table: ask the kernel. SAFETY: signal 0 only checks existence.
        #[cfg(unix)]
        None => pid <= i32::MAX as u32 && unsafe { libc::kill(pid as i32, 0) } == 0,
        // Nothing to ask: only processes leakhunt launched are asked about, and elsewhere
        // than Unix it launches none.
        #[cfg(not(unix))]
        None => false,
    }
}

/// Every process below `root` (children, their children, …), zombies included, found in one
/// pass over the process table: linear in the number of processes.
pub(crate) fn descendants(root: u32) -> Vec<Proc> {
    let table = all();
    let mut children: std::collections::HashMap<u32, Vec<usize>> = Default::default();
    for (i, p) in table.iter().enumerate() {
        children.entry(p.ppid).or_default().push(i);
    }
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        for &i in children.get(&pid).map(Vec::as_slice).unwrap_or(&[]) {
            let p = table[i];
            // A pid is its own parent only for the kernel's idle task; never loop.
            if p.pid != root && p.pid != pid {
                out.push(p);
                stack.push(p.pid);
            }
        }
    }
    out
}

/// Whether any running process is left in group `pgid`.
///
/// `kill(-pgid, 0)` alone is not enough: zombies still count as members, and orphaned
/// zombies may stay for as long as PID 1 does not reap them (in containers: forever). So when
/// the kernel says "someone is there", look in the process table for a member that runs.
#[cfg(not(unix))]
pub(crate) fn group_alive(_pgid: i32) -> bool {
    false
}

/// Whether any running process is left in group `pgid` (see above).
#[cfg(unix)]
pub(crate) fn group_alive(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks existence/permission.
    if unsafe { libc::kill(-pgid, 0) } != 0 {
        return std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    }
    if cfg!(not(target_os = "linux")) {
        return true;
    }
    all().iter().any(|p| p.pgrp == pgid && p.running())
}

/// The program `pid` runs: the path of its executable, or failing that its `argv[0]`.
#[cfg(target_os = "linux")]
pub(crate) fn program(pid: u32) -> Option<String> {
    if let Ok(exe) = std::fs::read_link(format!("/proc/{pid}/exe")) {
        let exe = exe.to_string_lossy();
        // A binary replaced on disk since it started reads "… (deleted)".
        return Some(exe.strip_suffix(" (deleted)").unwrap_or(&exe).to_string());
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let argv0 = cmdline.split(|&b| b == 0).next()?;
    (!argv0.is_empty()).then(|| String::from_utf8_lossy(argv0).into_owned())
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn program(_pid: u32) -> Option<String> {
    None
}

/// `pid`'s command line and environment contain an option that moves its inspector off
/// Node's default port (`--inspect-port`, `--inspect=`…): then SIGUSR1 does not open 9229.
#[cfg(target_os = "linux")]
pub(crate) fn sets_inspect_port(pid: u32) -> bool {
    let read = |what: &str| std::fs::read(format!("/proc/{pid}/{what}")).unwrap_or_default();
    let cmdline = read("cmdline");
    let environ = read("environ");
    let mentions = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        text.contains("--inspect-port=")
            || text.contains("--debug-port=")
            || text.contains("--inspect=")
            || text.contains("--inspect-brk=")
    };
    mentions(&cmdline)
        || environ
            .split(|&b| b == 0)
            .any(|kv| kv.starts_with(b"NODE_OPTIONS=") && mentions(kv))
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn sets_inspect_port(_pid: u32) -> bool {
    false
}

/// A TCP socket in the LISTEN state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Listener {
    pub ip: IpAddr,
    pub port: u16,
}

impl Listener {
    /// Bound to every interface (0.0.0.0 or ::): reachable from the network.
    pub fn on_all_interfaces(&self) -> bool {
        self.ip.is_unspecified()
    }

    /// Reachable by dialling 127.0.0.1 (loopback itself, or every interface).
    pub fn reachable_on_loopback(&self) -> bool {
        match self.ip {
            IpAddr::V4(v4) => v4.is_loopback() || v4.is_unspecified(),
            IpAddr::V6(v6) => {
                v6.is_unspecified() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
        }
    }
}

/// The sockets `pid` listens on (those of its own open files).
#[cfg(target_os = "linux")]
pub(crate) fn listeners_of(pid: u32) -> Vec<Listener> {
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
    listening_table(&format!("/proc/{pid}/net"), |inode| inodes.contains(inode))
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn listeners_of(_pid: u32) -> Vec<Listener> {
    Vec::new()
}

/// Every listening socket on `port` in our network namespace, with the pid owning it when
/// we may see it (`None` for other users' processes).
#[cfg(target_os = "linux")]
pub(crate) fn listeners_on(port: u16) -> Vec<Listener> {
    listening_table("/proc/net", |_| true)
        .into_iter()
        .filter(|l| l.port == port)
        .collect()
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn listeners_on(_port: u16) -> Vec<Listener> {
    Vec::new()
}

/// The process that owns the listening socket on `port`, among those we may look into.
#[cfg(target_os = "linux")]
pub(crate) fn listener_owner(port: u16) -> Option<u32> {
    let mut inodes = std::collections::HashSet::new();
    for table in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("/proc/net/{table}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            if let Some((l, inode)) = parse_tcp_line(line) {
                if l.port == port {
                    inodes.insert(inode.to_string());
                }
            }
        }
    }
    if inodes.is_empty() {
        return None;
    }
    all().into_iter().map(|p| p.pid).find(|pid| {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|dir| {
                dir.flatten().any(|e| {
                    std::fs::read_link(e.path()).is_ok_and(|t| {
                        let t = t.to_string_lossy();
                        t.strip_prefix("socket:[")
                            .and_then(|s| s.strip_suffix(']'))
                            .is_some_and(|i| inodes.contains(i))
                    })
                })
            })
            .unwrap_or(false)
    })
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn listener_owner(_port: u16) -> Option<u32> {
    None
}

#[cfg(target_os = "linux")]
fn listening_table(dir: &str, keep: impl Fn(&str) -> bool) -> Vec<Listener> {
    let mut out = Vec::new();
    for table in ["tcp", "tcp6"] {
        let Ok(text) = std::fs::read_to_string(format!("{dir}/{table}")) else {
            continue;
        };
        for line in text.lines().skip(1) {
            if let Some((l, inode)) = parse_tcp_line(line) {
                if keep(inode) && !out.contains(&l) {
                    out.push(l);
                }
            }
        }
    }
    out
}

/// One line of /proc/net/tcp{,6}: the socket if it listens, and its inode.
#[cfg(target_os = "linux")]
fn parse_tcp_line(line: &str) -> Option<(Listener, &str)> {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() < 10 || f[3] != "0A" {
        return None;
    }
    let (ip_hex, port_hex) = f[1].split_once(':')?;
    let port = u16::from_str_radix(port_hex, 16).ok()?;
    Some((
        Listener {
            ip: proc_ip(ip_hex)?,
            port,
        },
        f[9],
    ))
}

/// /proc/net/tcp{,6} print addresses as 32-bit words in host byte order.
#[cfg(target_os = "linux")]
fn proc_ip(hex: &str) -> Option<IpAddr> {
    let words: Vec<u32> = (0..hex.len() / 8)
        .map(|i| u32::from_str_radix(hex.get(i * 8..i * 8 + 8)?, 16).ok())
        .collect::<Option<_>>()?;
    match words.len() {
        1 => Some(IpAddr::V4(Ipv4Addr::from(words[0].to_ne_bytes()))),
        4 => {
            let mut b = [0u8; 16];
            for (i, w) in words.iter().enumerate() {
                b[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
            }
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => None,
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn proc_addresses() {
        if cfg!(target_endian = "little") {
            let l = |hex| Listener {
                ip: proc_ip(hex).unwrap(),
                port: 1,
            };
            assert!(l("0100007F").reachable_on_loopback());
            assert!(!l("0100007F").on_all_interfaces());
            assert!(l("00000000").reachable_on_loopback());
            assert!(l("00000000").on_all_interfaces());
            assert!(!l("0101A8C0").reachable_on_loopback());
            assert!(l("00000000000000000000000000000000").on_all_interfaces());
            assert!(l("0000000000000000FFFF00000100007F").reachable_on_loopback());
        }
    }

    #[test]
    fn our_own_tree_and_sockets() {
        let me = std::process::id();
        assert!(running(me));
        assert_eq!(stat(me).unwrap().pid, me);
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        assert!(descendants(me).iter().any(|p| p.pid == child.id()));
        child.kill().unwrap();
        child.wait().unwrap();
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(listeners_of(me).iter().any(|x| x.port == port));
        assert_eq!(listeners_on(port).len(), 1);
        assert_eq!(listener_owner(port), Some(me));
        assert!(program(me).is_some());
    }
}
