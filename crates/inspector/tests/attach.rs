//! Attaching by port, by PID (SIGUSR1) and by URL, and the refusals.
// The tests launch services and signal processes: Unix only, as launching is.
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// Long enough for the slowest machine; these waits take milliseconds when all is well.
const DEADLINE: Duration = Duration::from_secs(60);
use leakhunt_inspector::{InspectorError, Session, Target};

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
    let _port = leakhunt_testkit::ports::inspector_port_9229();
    // Started WITHOUT --inspect.
    let mut guard = Service::spawn(
        Command::new("node")
            .arg(fixture("server.js"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    guard.wait_for_line(DEADLINE, "LISTENING", |l| {
        l.starts_with("LISTENING").then_some(())
    });
    let pid = guard.pid();
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
    let mut guard = Service::spawn(Command::new("sleep").arg("30"));
    let pid = guard.pid();
    // Until the fork has exec'd, the child still looks like this test.
    let comm = format!("/proc/{pid}/comm");
    wait_until(DEADLINE, "sleep to start", || {
        std::fs::read_to_string(&comm).unwrap_or_default().trim() == "sleep"
    });
    let err = Target::attach_pid(pid).unwrap_err();
    assert!(matches!(err, InspectorError::NotNode { .. }), "{err}");
    assert!(err.to_string().contains("(sleep)"), "{err}");
    assert!(guard.running(), "sleep must still be alive");
    guard.kill();
    let err = Target::attach_pid(pid).unwrap_err();
    assert_eq!(err.to_string(), format!("no process {pid}"));
}

#[test]
fn attach_port_with_nothing_there() {
    let closed = leakhunt_testkit::ports::ClosedPort::new();
    let port = closed.port();
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
    let mut guard = Service::spawn(
        Command::new("sh")
            .args(["-c", &script])
            .stdout(Stdio::piped()),
    );
    guard.wait_for_line(DEADLINE, "ready", |l| (l == "ready").then_some(()));
    let err = Target::attach_pid(guard.pid()).unwrap_err();
    assert!(matches!(err, InspectorError::NotNode { .. }), "{err}");
    assert!(err.to_string().contains("only node"), "{err}");
    assert_eq!(err.to_string().lines().count(), 1, "{err}");
    // A SIGUSR1 sent before would be handled by the time this later SIGUSR2 is.
    signal(guard.pid() as i32, libc::SIGUSR2);
    wait_until(DEADLINE, "the shell to handle its signals", || {
        later.exists()
    });
    assert!(!got.exists(), "SIGUSR1 was sent to the shell");
}

#[test]
fn inspectors_on_every_interface_are_refused() {
    // Exposed on purpose, for the length of this test: the case leakhunt must refuse.
    let mut child = Command::new("node");
    child
        .args(["--inspect=0.0.0.0:0", &fixture_str("server.js")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut guard = Service::spawn(&mut child);
    let mut err = BufReader::new(guard.child().stderr.take().unwrap());
    let mut banner = String::new();
    err.read_line(&mut banner).unwrap();
    let url = banner
        .trim()
        .strip_prefix("Debugger listening on ")
        .expect("a banner")
        .to_string();
    guard.wait_for_line(DEADLINE, "LISTENING", |l| {
        l.starts_with("LISTENING").then_some(())
    });
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
        Target::attach_pid(guard.pid()),
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
