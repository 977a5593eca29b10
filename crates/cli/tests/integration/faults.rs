//! Faults on live targets: a service that crashes under load, ignores SIGTERM, forks (also into
//! a session of its own), runs under `sh -c`; leakhunt SIGKILLed or interrupted twice; `--pid`
//! targets whose inspector leakhunt opens (and must close again) or finds held by another
//! process. Every test checks that nothing is left running: each service gets a marker argument
//! (the test's temporary folder) that all its processes carry, and the test polls /proc until no
//! process with the marker is left.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use leakhunt_testkit::ports::inspector_port_9229;

use crate::support::*;

/// Long enough for the slowest machine; a hang (the bug these tests catch) lasts minutes.
const DEADLINE: Duration = Duration::from_secs(90);

fn service(name: &str) -> String {
    fixture("services").join(name).to_str().unwrap().to_string()
}

/// Running processes (zombies do not count) whose command line contains `marker`.
fn marked_processes(marker: &str) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if !cmdline.contains(marker) {
            continue;
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat.rsplit(')').next().unwrap_or("").trim_start();
        if !state.is_empty() && !state.starts_with('Z') && !state.starts_with('X') {
            found.push((pid, cmdline));
        }
    }
    found
}

/// TCP ports `pid` listens on (its own sockets, from /proc).
fn listening_ports(pid: u32) -> Vec<u16> {
    let mut inodes = Vec::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.flatten().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        if let Ok(t) = std::fs::read_link(e.path()) {
            let t = t.to_string_lossy().into_owned();
            if let Some(i) = t.strip_prefix("socket:[").and_then(|s| s.strip_suffix(']')) {
                inodes.push(i.to_string());
            }
        }
    }
    let mut ports = Vec::new();
    for table in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() > 9 && f[3] == "0A" && inodes.iter().any(|i| i == f[9]) {
                let port = u16::from_str_radix(f[1].rsplit(':').next().unwrap(), 16).unwrap();
                ports.push(port);
            }
        }
    }
    ports
}

/// A leakhunt run in the background; its stderr goes to a file. Killed on drop.
struct Run {
    child: Child,
    dir: tempfile::TempDir,
}

impl Run {
    /// `leakhunt hunt ARGS --out DIR/out -- COMMAND MARKER` with `env` and the pid file set.
    fn hunt(args: &[&str], command: &[&str], env: &[(&str, &str)]) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let stderr = std::fs::File::create(dir.path().join("stderr")).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_leakhunt"));
        cmd.arg("hunt")
            .args(args)
            .arg("--out")
            .arg(dir.path().join("out"))
            .arg("--")
            .args(command)
            .arg(dir.path())
            .env("LEAKHUNT_TEST_PIDFILE", dir.path().join("service.pid"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run {
            child: cmd.spawn().unwrap(),
            dir,
        }
    }

    fn marker(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.path("stderr")).unwrap_or_default()
    }

    /// Waits for leakhunt to end (failing the test after `DEADLINE`); returns its exit code.
    fn wait(&mut self) -> Option<i32> {
        let mut status = None;
        let ended = poll_until(DEADLINE, || {
            status = self.child.try_wait().unwrap();
            status.is_some()
        });
        if !ended {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!(
                "leakhunt still ran after {DEADLINE:?}; its stderr:\n{}",
                self.stderr()
            );
        }
        status.and_then(|s| s.code())
    }

    /// Waits until the service wrote `name` next to its pid file; returns its content.
    fn wait_for_file(&mut self, name: &str) -> String {
        let path = self.path(name);
        // Until it has content: the service creates the file, then writes to it, and a read
        // in between finds it empty.
        let written = || std::fs::metadata(&path).is_ok_and(|m| m.len() > 0);
        let ok = poll_until(DEADLINE, || {
            written() || matches!(self.child.try_wait(), Ok(Some(_)))
        });
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            ok && !text.is_empty(),
            "the service never wrote {name}; leakhunt's stderr:\n{}",
            self.stderr()
        );
        text
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    /// Every process of the service is gone (polls: the last ones may take a moment to die).
    fn assert_nothing_left(&self) {
        let marker = self.marker().to_string();
        let gone = poll_until(DEADLINE, || marked_processes(&marker).is_empty());
        assert!(
            gone,
            "processes left behind: {:#?}\nleakhunt's stderr:\n{}",
            marked_processes(&marker),
            self.stderr()
        );
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A failed test must not leave its processes to the next ones.
        for (pid, _) in marked_processes(self.marker()) {
            unsafe_kill(pid);
        }
    }
}

fn unsafe_kill(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

const FOREVER: &[&str] = &["--request", "GET /x", "--iterations", "100000000"];

#[test]
fn crash_mid_load_shows_the_exception_exits_2_and_keeps_the_snapshots() {
    let mut run = Run::hunt(
        &[
            "--request",
            "GET /work/{{i}}",
            "--warmup",
            "100",
            "--iterations",
            "1000",
        ],
        &["node", &service("crash-service.js")],
        &[("CRASH_AT", "400")],
    );
    let code = run.wait();
    let stderr = run.stderr();
    assert_eq!(code, Some(2), "{stderr}");
    let error = &stderr[stderr
        .find("leakhunt: error:")
        .unwrap_or_else(|| panic!("no error line in:\n{stderr}"))..];
    assert!(
        error.contains("boom: request 400 broke the service"),
        "the exception is shown: {error}"
    );
    let crash_line = std::fs::read_to_string(service("crash-service.js"))
        .unwrap()
        .lines()
        .position(|l| l.contains("// CRASH:"))
        .unwrap()
        + 1;
    assert!(
        error.contains(&format!("crash-service.js:{crash_line}:")),
        "the top of its stack is shown: {error}"
    );
    assert!(
        !error.contains("before the inspector could be used"),
        "{error}"
    );
    assert!(
        error.trim_end().lines().count() <= 8,
        "a few lines, not the service's whole log: {error}"
    );
    assert!(
        run.path("out/s1.heapsnapshot").exists(),
        "the warm-up's snapshot is kept"
    );
    run.assert_nothing_left();
}

#[test]
fn a_service_that_ignores_sigterm_dies_with_a_sigkilled_leakhunt() {
    let mut run = Run::hunt(
        FOREVER,
        &["node", &service("family-service.js")],
        &[("IGNORE_TERM", "1")],
    );
    run.wait_for_file("service.pid.family");
    run.signal("KILL");
    run.wait();
    run.assert_nothing_left();
}

#[test]
fn a_forking_service_leaves_no_process_after_a_hunt() {
    let mut run = Run::hunt(
        &["--request", "GET /x", "--iterations", "50"],
        &["node", &service("family-service.js")],
        &[("DAEMON", "1")],
    );
    assert_eq!(run.wait(), Some(0), "{}", run.stderr());
    run.assert_nothing_left();
}

#[test]
fn an_sh_c_wrapper_and_its_detached_helpers_die_with_a_sigkilled_leakhunt() {
    // Not `exec`: sh stays the service's parent, as `npm start` does.
    let script = format!(
        "node {} \"$0\"; echo service ended",
        service("family-service.js")
    );
    let mut run = Run::hunt(FOREVER, &["sh", "-c", &script], &[("DAEMON", "1")]);
    run.wait_for_file("service.pid.family");
    run.signal("KILL");
    run.wait();
    run.assert_nothing_left();
}

#[test]
fn ctrl_c_twice_kills_everything_and_exits() {
    let mut run = Run::hunt(
        FOREVER,
        &["node", &service("family-service.js")],
        &[("IGNORE_TERM", "1"), ("DAEMON", "1")],
    );
    run.wait_for_file("service.pid.family");
    run.signal("INT");
    // The first Ctrl-C asks politely; the service ignores it.
    run.wait_for_file("service.pid.term");
    run.signal("INT");
    assert_eq!(run.wait(), Some(130), "{}", run.stderr());
    run.assert_nothing_left();
}

#[test]
fn a_service_that_ignores_port_is_named_with_its_port_and_base_url() {
    // The service listens on a port of its own choosing (0: the system picks a free one)
    // and writes down which.
    let mut run = Run::hunt(
        &["--request", "GET /", "--iterations", "10"],
        &["node", &service("wrong-port-service.js")],
        &[("OTHER_PORT", "0")],
    );
    assert_eq!(run.wait(), Some(2));
    let other = run.wait_for_file("service.pid.port");
    let stderr = run.stderr();
    let error = stderr
        .lines()
        .find(|l| l.starts_with("leakhunt: error:"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(error.contains(&format!(":{other}")), "{error}");
    assert!(error.contains("--base-url"), "{error}");
    run.assert_nothing_left();
}

// ---- --pid: the inspector on 127.0.0.1:9229 ----

/// `node ARGS -e SCRIPT` started by the test (without leakhunt), returned once the script
/// printed READY; killed on drop.
fn start_target(args: &[&str], script: &str, env: &[(&str, &str)]) -> Service {
    let mut cmd = Command::new(node());
    cmd.args(args)
        .args(["-e", &format!("{script}; console.log('READY')")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .envs(env.iter().copied());
    let mut target = Service::spawn(&mut cmd);
    target.wait_for_line(DEADLINE, "READY", |l| (l == "READY").then_some(()));
    target
}

/// The one port `target`'s service listens on (it bound port 0), once it listens.
fn service_port(target: &Service) -> u16 {
    let mut ports = Vec::new();
    wait_until(DEADLINE, "the service to listen", || {
        ports = listening_ports(target.pid());
        ports.len() == 1
    });
    ports[0]
}

const IDLE: &str = "globalThis.kept = new Array(1000).fill('x'); setInterval(() => {}, 1000)";

fn snapshot_pid(pid: u32, dir: &Path) -> std::process::Output {
    leakhunt(&[
        "snapshot",
        "--pid",
        &pid.to_string(),
        "-o",
        path_str(&dir.join("s.heapsnapshot")),
    ])
}

#[test]
fn snapshot_pid_closes_the_inspector_it_opened() {
    let _port = inspector_port_9229();
    let dir = tempfile::tempdir().unwrap();
    let mut target = start_target(&[], IDLE, &[]);
    let out = snapshot_pid(target.pid(), dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("s.heapsnapshot").exists());
    assert!(
        listening_ports(target.pid()).is_empty(),
        "the target still listens on {:?}",
        listening_ports(target.pid())
    );
    assert!(
        target.running(),
        "closing the inspector must not stop the process"
    );
    // And it can be opened again (the next leakhunt run works the same).
    let out = snapshot_pid(target.pid(), dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(listening_ports(target.pid()).is_empty());
}

#[test]
fn snapshot_pid_refuses_when_another_process_holds_9229() {
    let _port = inspector_port_9229();
    let dir = tempfile::tempdir().unwrap();
    let holder = start_target(&["--inspect=127.0.0.1:9229"], IDLE, &[]);
    assert_eq!(listening_ports(holder.pid()), vec![9229]);
    let mut target = start_target(&[], IDLE, &[]);
    let out = snapshot_pid(target.pid(), dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains(&holder.pid().to_string()) && err.contains("9229"),
        "names the process holding the port: {err}"
    );
    assert!(target.running());
    assert!(
        listening_ports(target.pid()).is_empty(),
        "the target was not signalled"
    );
}

#[test]
fn snapshot_pid_leaves_an_inspector_it_did_not_open_open_and_says_so() {
    let _port = inspector_port_9229();
    let dir = tempfile::tempdir().unwrap();
    let target = start_target(&["--inspect=127.0.0.1:9229"], IDLE, &[]);
    assert_eq!(listening_ports(target.pid()), vec![9229]);
    let out = snapshot_pid(target.pid(), dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("already open"), "{err}");
    assert_eq!(listening_ports(target.pid()), vec![9229]);
}

/// The clean fixture service, started by the test without an inspector (for `--pid`), on a
/// port it chose; with that port.
fn clean_service_by_pid() -> (Service, u16) {
    let script = format!(
        "process.env.PORT = '0'; require({:?})",
        service("clean-service.js")
    );
    let target = start_target(&[], &script, &[]);
    let port = service_port(&target);
    (target, port)
}

#[test]
fn hunt_pid_closes_the_inspector_it_opened() {
    let _port = inspector_port_9229();
    let dir = tempfile::tempdir().unwrap();
    let (mut target, port) = clean_service_by_pid();
    let out = Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .args([
            "hunt",
            "--request",
            "GET /items/{{i}}",
            "--iterations",
            "50",
        ])
        .args(["--pid", &target.pid().to_string()])
        .args(["--base-url", &format!("http://127.0.0.1:{port}")])
        .arg("--out")
        .arg(dir.path().join("out"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(target.running());
    assert_eq!(
        listening_ports(target.pid()),
        vec![port],
        "only the service's own port is left open"
    );
}

#[test]
fn snapshot_pid_closes_the_inspector_on_errors_too() {
    let _port = inspector_port_9229();
    let dir = tempfile::tempdir().unwrap();
    let mut target = start_target(&[], IDLE, &[]);
    // The snapshot cannot be written there: an error after the inspector was opened.
    let out = snapshot_pid(target.pid(), &dir.path().join("no/such/folder"));
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(target.running());
    assert!(
        listening_ports(target.pid()).is_empty(),
        "the target still listens on {:?}",
        listening_ports(target.pid())
    );
}

#[test]
fn hunt_pid_closes_the_inspector_on_ctrl_c() {
    let _port = inspector_port_9229();
    let dir = tempfile::tempdir().unwrap();
    let (mut target, port) = clean_service_by_pid();
    let stderr = std::fs::File::create(dir.path().join("stderr")).unwrap();
    let mut hunt = Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .args([
            "hunt",
            "--request",
            "GET /items/{{i}}",
            "--iterations",
            "100000000",
        ])
        .args(["--pid", &target.pid().to_string()])
        .args(["--base-url", &format!("http://127.0.0.1:{port}")])
        .arg("--out")
        .arg(dir.path().join("out"))
        .env("NO_COLOR", "1")
        .stderr(stderr)
        .spawn()
        .unwrap();
    // Once the inspector is open and the load runs, interrupt.
    assert!(poll_until(DEADLINE, || listening_ports(target.pid()).len() == 2));
    let stderr_path = dir.path().join("stderr");
    assert!(poll_until(DEADLINE, || std::fs::read_to_string(
        &stderr_path
    )
    .unwrap_or_default()
    .contains("serving at")));
    let ok = Command::new("kill")
        .args(["-INT", &hunt.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let mut ended = None;
    let exited = poll_until(DEADLINE, || {
        ended = hunt.try_wait().unwrap();
        ended.is_some()
    });
    if !exited {
        let _ = hunt.kill();
        let _ = hunt.wait();
    }
    assert_eq!(ended.and_then(|s| s.code()), Some(130));
    assert!(target.running());
    assert!(
        poll_until(DEADLINE, || listening_ports(target.pid()) == vec![port]),
        "the inspector stays open after Ctrl-C: {:?}",
        listening_ports(target.pid())
    );
}
