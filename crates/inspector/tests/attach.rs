//! Attaching by port, by PID (SIGUSR1) and by URL, and the refusals.
// The tests launch services and signal processes: Unix only, as launching is.
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use leakhunt_inspector::{InspectorError, Session, Target};

/// A process we started ourselves (not through Target::launch); killed on drop.
struct Plain(Child);
impl Drop for Plain {
    fn drop(&mut self) {
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

#[test]
fn attach_by_port() {
    let launched = launch_server();
    let port = launched.endpoint().addr.port();
    let ep = Target::attach_port(port).unwrap();
    assert_eq!(ep.ws_url, launched.ws_url());
    assert_eq!(ep.title.as_deref(), Some(fixture_str("server.js").as_str()));
    let mut s = ep.connect().unwrap();
    assert_eq!(
        s.evaluate("process.pid").unwrap().as_u64().unwrap() as u32,
        launched.pid()
    );
    // By URL too, and `localhost` is accepted as loopback.
    let url = launched.ws_url().replace("127.0.0.1", "localhost");
    let mut s2 = Target::attach_url(&url).unwrap().connect().unwrap();
    s2.enable().unwrap();
    assert!(!s2.scripts().is_empty());
}

#[test]
fn attach_by_pid_with_sigusr1() {
    // Started WITHOUT --inspect.
    let mut child = Command::new("node")
        .arg(fixture("server.js"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let guard = Plain(child);
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with("LISTENING"), "{line}");
    let pid = guard.0.id();
    let ep = Target::attach_pid(pid).unwrap();
    assert!(ep.ws_url.starts_with("ws://127.0.0.1:"), "{}", ep.ws_url);
    let mut s = ep.connect().unwrap();
    s.enable().unwrap();
    assert_eq!(
        s.evaluate("process.pid").unwrap().as_u64().unwrap() as u32,
        pid
    );
    let (used, _) = s.heap_usage().unwrap();
    assert!(used > 0);
    // Second attach finds the inspector that is already open (no new signal needed).
    let again = Target::attach_pid(pid).unwrap();
    assert_eq!(again.ws_url, ep.ws_url);
}

#[test]
fn attach_pid_refuses_non_node_and_dead_processes() {
    // `sleep` does not handle SIGUSR1: sending it would kill it, so we must not.
    let child = Command::new("sleep")
        .arg("30")
        .process_group(0)
        .spawn()
        .unwrap();
    let mut guard = Plain(child);
    let pid = guard.0.id();
    // Until the fork has exec'd, the child still looks like this test.
    let comm = format!("/proc/{pid}/comm");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::fs::read_to_string(&comm).unwrap_or_default().trim() != "sleep"
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let err = Target::attach_pid(pid).unwrap_err();
    assert!(matches!(err, InspectorError::NotNode { .. }), "{err}");
    assert!(err.to_string().contains("(sleep)"), "{err}");
    assert!(
        guard.0.try_wait().unwrap().is_none(),
        "sleep must still be alive"
    );
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    guard.0.wait().unwrap();
    let err = Target::attach_pid(pid).unwrap_err();
    assert_eq!(err.to_string(), format!("no process {pid}"));
}

#[test]
fn attach_port_with_nothing_there() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = Target::attach_port(port).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("nothing listens on 127.0.0.1:{port}")
    );

    // Something that is not an inspector (a plain HTTP server) on the port.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        if let Ok((mut c, _)) = l.accept() {
            let mut b = [0u8; 1024];
            let _ = c.read(&mut b);
            let _ = c.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let err = Target::attach_port(port).unwrap_err();
    assert!(matches!(err, InspectorError::NotInspector { .. }), "{err}");
}

#[test]
fn refuses_non_loopback() {
    for url in [
        "ws://10.1.2.3:9229/abc",
        "ws://example.com:9229/abc",
        "ws://0.0.0.0:9229/abc",
        "ws://[2001:db8::1]:9229/x",
    ] {
        let err = Target::attach_url(url).unwrap_err();
        assert!(
            matches!(err, InspectorError::NotLoopback { .. }),
            "{url}: {err}"
        );
        assert!(err.to_string().contains("only loopback"), "{err}");
        assert!(matches!(
            Session::connect(url),
            Err(InspectorError::NotLoopback { .. })
        ));
    }
    assert!(matches!(
        Target::attach_url("wss://127.0.0.1:9229/x"),
        Err(InspectorError::BadUrl(_))
    ));
}

fn wait_for_file(path: &std::path::Path) -> bool {
    let start = std::time::Instant::now();
    while !path.exists() {
        if start.elapsed() > Duration::from_secs(30) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

#[test]
fn attach_pid_sends_no_sigusr1_to_a_program_that_is_not_node() {
    // A shell that catches SIGUSR1 (as many daemons do, to reopen logs): it is not node, so
    // the signal would not open an inspector but do whatever the program does with it.
    let dir = tempfile::tempdir().unwrap();
    let got = dir.path().join("got-usr1");
    let later = dir.path().join("got-usr2");
    let script = format!(
        "trap 'echo > {}' USR1; trap 'echo > {}' USR2; echo ready; while :; do sleep 0.05; done",
        got.display(),
        later.display()
    );
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let guard = Plain(child);
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready");
    let err = Target::attach_pid(guard.0.id()).unwrap_err();
    assert!(matches!(err, InspectorError::NotNode { .. }), "{err}");
    assert!(err.to_string().contains("only node"), "{err}");
    assert_eq!(err.to_string().lines().count(), 1, "{err}");
    // A SIGUSR1 sent before would be handled by the time this later SIGUSR2 is.
    unsafe { libc::kill(guard.0.id() as i32, libc::SIGUSR2) };
    assert!(wait_for_file(&later), "the shell handles its signals");
    assert!(!got.exists(), "SIGUSR1 was sent to the shell");
}

#[test]
fn inspectors_on_every_interface_are_refused() {
    // Exposed on purpose, for the length of this test: the case leakhunt must refuse.
    let mut child = Command::new("node")
        .args(["--inspect=0.0.0.0:0", &fixture_str("server.js")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let guard = Plain(child);
    let mut banner = String::new();
    err.read_line(&mut banner).unwrap();
    let url = banner
        .trim()
        .strip_prefix("Debugger listening on ")
        .expect("a banner")
        .to_string();
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with("LISTENING"), "{line}");
    let port: u16 = url
        .strip_prefix("ws://0.0.0.0:")
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let local = url.replace("0.0.0.0", "127.0.0.1");
    for result in [
        Target::attach_port(port),
        Target::attach_url(&local),
        Target::attach_pid(guard.0.id()),
    ] {
        let err = result.unwrap_err();
        assert!(matches!(err, InspectorError::Exposed { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("0.0.0.0:{port}")) && msg.contains("every network interface"),
            "{msg}"
        );
    }
}
