//! Launching through wrappers, launch failures, and never leaving processes behind.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use leakhunt_inspector::{InspectorError, LaunchOptions, Launched, Target};

/// The pid and main script of the process the session reaches. Waits for the
/// service to be up first: launch returns as soon as the inspector listens, and
/// under NODE_OPTIONS that is so early in Node's bootstrap that `process.argv`
/// is still undefined.
fn service_argv1(launched: &Launched) -> (u32, String) {
    launched
        .wait_for_output(|l| l.starts_with("LISTENING "), Duration::from_secs(60))
        .expect("service listening");
    let mut s = launched.connect().unwrap();
    let pid = s.evaluate("process.pid").unwrap().as_u64().unwrap() as u32;
    let argv1 = s
        .evaluate("process.argv[1]")
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    (pid, argv1)
}

#[test]
fn wrapper_gets_node_options() {
    let server = fixture_str("server.js");
    let env = vec![(
        "NODE_OPTIONS".to_string(),
        "--max-old-space-size=200".to_string(),
    )];
    let launched = Target::launch_with(
        &cmd(&["sh", "-c", &format!("exec node {server}")]),
        &env,
        &quiet(),
    )
    .unwrap();
    let notice = launched.notice().expect("a notice about NODE_OPTIONS");
    assert!(
        notice.contains("NODE_OPTIONS=--max-old-space-size=200 --inspect=127.0.0.1:0"),
        "{notice}"
    );
    let (pid, argv1) = service_argv1(&launched);
    assert_eq!(argv1, server);
    assert_eq!(pid, launched.pid(), "exec: the shell became node");
}

#[test]
fn wrapper_skips_launcher_processes() {
    // launcher.js is a node program that starts server.js as a second node, like
    // npm or tsx do; its banner comes first and must be skipped.
    let mut opts = quiet();
    opts.launcher_patterns.push("/fixtures/launcher.js".into());
    let launched = Target::launch_with(
        &cmd(&["sh", "-c", &format!("node {}", fixture_str("launcher.js"))]),
        &[],
        &opts,
    )
    .unwrap();
    let (pid, argv1) = service_argv1(&launched);
    assert_eq!(argv1, fixture_str("server.js"));
    assert_ne!(pid, launched.pid());
    drop(launched);
    assert!(
        wait_gone(pid, GONE),
        "the service (a grandchild) must die with the group"
    );
}

#[test]
fn npm_start_attaches_to_the_service_not_npm() {
    if Command::new("npm")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        eprintln!("npm not installed; skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pkg = serde_json::json!({
        "name": "svc", "version": "1.0.0", "private": true,
        "scripts": { "start": format!("node {}", fixture_str("server.js")) }
    });
    std::fs::write(dir.path().join("package.json"), pkg.to_string()).unwrap();
    let opts = LaunchOptions {
        cwd: Some(dir.path().to_path_buf()),
        ..quiet()
    };
    let launched = Target::launch_with(&cmd(&["npm", "start"]), &[], &opts).unwrap();
    assert!(launched.notice().is_some());
    let (pid, argv1) = service_argv1(&launched);
    assert_eq!(
        argv1,
        fixture_str("server.js"),
        "attached to npm instead of the service?"
    );
    drop(launched);
    assert!(wait_gone(pid, GONE));
}

#[test]
fn command_exits_before_the_banner() {
    let err = Target::launch_with(
        &cmd(&[
            "sh",
            "-c",
            "echo starting; echo 'fatal: config missing' >&2; exit 3",
        ]),
        &[],
        &quiet(),
    )
    .unwrap_err();
    let InspectorError::Exited {
        status,
        last_output,
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(status, "exit status 3");
    // stdout and stderr are read by two threads: their relative order is not kept.
    assert_eq!(last_output.len(), 2, "{last_output:?}");
    assert!(
        last_output.contains(&"starting".to_string())
            && last_output.contains(&"fatal: config missing".to_string())
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with("sh exited (exit status 3) before the inspector could be used"),
        "{msg}"
    );
    assert!(msg.contains("fatal: config missing"), "{msg}");

    // Node rejecting its options dies before opening the inspector.
    let err =
        Target::launch_with(&cmd(&["node", "--no-such-flag", "x.js"]), &[], &quiet()).unwrap_err();
    assert!(matches!(err, InspectorError::Exited { .. }), "{err}");
    assert!(err.to_string().contains("bad option"), "{err}");
}

#[test]
fn node_script_that_exits_at_once() {
    // Node prints its banner before running the script, so the death can be
    // seen during launch or just after it; both must tell status and output.
    match Target::launch_with(&cmd(&["node", &fixture_str("exits.js")]), &[], &quiet()) {
        Err(err) => {
            let msg = err.to_string();
            assert!(
                msg.contains("exit status 7") && msg.contains("boom: config missing"),
                "{msg}"
            );
        }
        Ok(mut launched) => {
            let mut err = None;
            wait_until(GONE, "exits.js to exit", || {
                err = launched.check_running().err();
                err.is_some()
            });
            let err = err.unwrap();
            let msg = err.to_string();
            assert!(
                msg.contains("exit status 7") && msg.contains("boom: config missing"),
                "{msg}"
            );
        }
    }
}

#[test]
fn command_not_found() {
    let err = Target::launch_with(&cmd(&["leakhunt-no-such-command-xyz", "a"]), &[], &quiet())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "command not found: leakhunt-no-such-command-xyz"
    );
    assert!(matches!(
        Target::launch(&[], &[]),
        Err(InspectorError::EmptyCommand)
    ));
    // A program that cannot serve as the guardian (this test harness) must name one.
    assert!(matches!(
        Target::launch(&cmd(&["node", "x.js"]), &[]),
        Err(InspectorError::NoGuardian)
    ));
}

#[test]
fn banner_timeout_kills_the_command() {
    let opts = LaunchOptions {
        banner_timeout: Duration::from_millis(400),
        ..quiet()
    };
    let err = Target::launch_with(&cmd(&["sh", "-c", "echo $$; exec sleep 600"]), &[], &opts)
        .unwrap_err();
    let InspectorError::BannerTimeout { last_output, .. } = &err else {
        panic!("{err}");
    };
    assert!(
        err.to_string()
            .contains("does the command start node at all"),
        "{err}"
    );
    let pid: u32 = last_output[0].parse().unwrap();
    assert!(wait_gone(pid, GONE), "sleep must be killed");
}

/// Starts spawner.js and returns it with the pid of the helper it started.
fn launch_spawner(extra_env: &[(String, String)], opts: &LaunchOptions) -> (Launched, u32) {
    let launched =
        Target::launch_with(&cmd(&["node", &fixture_str("spawner.js")]), extra_env, opts).unwrap();
    let line = launched
        .wait_for_output(|l| l.starts_with("GRANDCHILD "), GONE)
        .expect("spawner prints its child's pid");
    let grandchild: u32 = line["GRANDCHILD ".len()..].trim().parse().unwrap();
    assert!(leakhunt_inspector::process_running(grandchild));
    (launched, grandchild)
}

#[test]
fn drop_kills_the_whole_group() {
    let (launched, grandchild) = launch_spawner(&[], &quiet());
    let pid = launched.pid();
    drop(launched);
    assert!(
        !leakhunt_inspector::process_running(pid),
        "service survived"
    );
    // The group got the signal; the grandchild is not ours to reap, so give it a moment.
    assert!(wait_gone(grandchild, GONE), "grandchild survived");
}

#[test]
fn shutdown_asks_politely_first() {
    let (launched, _) = launch_spawner(&[], &quiet());
    let status = launched.shutdown().unwrap();
    assert_eq!(
        leakhunt_inspector::describe_status(status),
        "killed by signal 15 (SIGTERM)",
        "SIGTERM suffices for a service that does not ignore it"
    );
}

#[test]
fn drop_kills_helpers_that_left_the_group() {
    let env = [("DETACH".to_string(), "1".to_string())];
    let (launched, grandchild) = launch_spawner(&env, &quiet());
    drop(launched);
    assert!(
        wait_gone(grandchild, GONE),
        "a helper in a session of its own survived"
    );
}

#[test]
fn shutdown_escalates_to_sigkill() {
    let opts = LaunchOptions {
        kill_grace: Duration::from_millis(300),
        ..quiet()
    };
    let (launched, grandchild) = launch_spawner(&[("IGNORE_TERM".into(), "1".into())], &opts);
    let t = Instant::now();
    let status = launched.shutdown().unwrap();
    assert_eq!(
        leakhunt_inspector::describe_status(status),
        "killed by signal 9 (SIGKILL)"
    );
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert!(
        !leakhunt_inspector::process_running(grandchild),
        "grandchild survived"
    );
}

// ---- cleanup on signals and panics, checked from a separate process ----

/// Runs this test binary again as a helper (`helper_process` below) in `mode`,
/// returns it once it printed the pids it launched.
fn start_helper(mode: &str) -> (std::process::Child, Vec<u32>) {
    start_helper_with(mode, &[])
}

fn start_helper_with(
    mode: &str,
    env: &[(&str, &std::path::Path)],
) -> (std::process::Child, Vec<u32>) {
    #[allow(clippy::zombie_processes)] // waited for by the callers (wait_exit)
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "helper_process",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("LEAKHUNT_HELPER_MODE", mode)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            panic!("helper ended without printing pids");
        }
        if let Some(at) = line.find("PIDS ") {
            let rest = &line[at + 5..];
            let pids = rest
                .split_whitespace()
                .map(|p| p.parse().unwrap())
                .collect();
            // Keep draining so the helper never blocks on a full pipe.
            std::thread::spawn(move || for _ in out.lines() {});
            return (child, pids);
        }
    }
}

fn wait_exit(child: &mut std::process::Child, timeout: Duration) -> std::process::ExitStatus {
    let mut status = None;
    if !poll_until(timeout, || {
        status = child.try_wait().unwrap();
        status.is_some()
    }) {
        let _ = child.kill();
        panic!("helper did not exit within {timeout:?}");
    }
    status.unwrap()
}

/// Generous: these tests wait for things that take milliseconds.
const GONE: Duration = Duration::from_secs(30);

#[test]
fn ctrl_c_kills_launched_groups_and_exits_130() {
    let (mut helper, pids) = start_helper("sigint");
    signal(helper.id() as i32, libc::SIGINT);
    let status = wait_exit(&mut helper, GONE);
    assert_eq!(status.code(), Some(130));
    for pid in pids {
        assert!(wait_gone(pid, GONE), "{pid} survived Ctrl-C");
    }
}

#[test]
fn a_second_ctrl_c_kills_everything_without_waiting_out_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let term_file = dir.path().join("term");
    let (mut helper, pids) =
        start_helper_with("sigint-twice", &[("LEAKHUNT_TEST_TERM_FILE", &term_file)]);
    signal(helper.id() as i32, libc::SIGINT);
    // The first Ctrl-C asks politely: the service ignores it (the grace period is a minute).
    wait_until(GONE, "the service to get SIGTERM", || term_file.exists());
    signal(helper.id() as i32, libc::SIGINT);
    let status = wait_exit(&mut helper, GONE);
    assert_eq!(status.code(), Some(130));
    for pid in pids {
        assert!(wait_gone(pid, GONE), "{pid} survived the second Ctrl-C");
    }
}

#[test]
fn panic_kills_launched_groups() {
    let (mut helper, pids) = start_helper("panic");
    let status = wait_exit(&mut helper, GONE);
    assert_eq!(
        status.code(),
        Some(101),
        "the helper's test fails by panicking"
    );
    for pid in pids {
        assert!(wait_gone(pid, GONE), "{pid} survived the panic");
    }
}

#[test]
fn sigkilled_parent_takes_everything_along() {
    // Nothing in-process can run on SIGKILL: the guardian sees our end of its socket close,
    // and stops the service, which ignores SIGTERM, and its helper in a session of its own.
    let (mut helper, pids) = start_helper("sigkill");
    signal(helper.id() as i32, libc::SIGKILL);
    wait_exit(&mut helper, GONE);
    for pid in pids {
        assert!(wait_gone(pid, GONE), "{pid} survived its parent's SIGKILL");
    }
}

/// Helper for the tests above, run in its own process.
#[test]
#[ignore = "helper process for the cleanup tests; does nothing on its own"]
fn helper_process() {
    let Ok(mode) = std::env::var("LEAKHUNT_HELPER_MODE") else {
        return;
    };
    let mut opts = quiet();
    let mut env = Vec::new();
    if mode == "sigkill" || mode == "sigint-twice" {
        for (k, v) in [("IGNORE_TERM", "1"), ("DETACH", "1")] {
            env.push((k.to_string(), v.to_string()));
        }
    }
    if mode == "sigint-twice" {
        opts.kill_grace = Duration::from_secs(60);
        let file = std::env::var("LEAKHUNT_TEST_TERM_FILE").unwrap();
        env.push(("TERM_FILE".to_string(), file));
    }
    if mode != "sigkill" {
        leakhunt_inspector::install_cleanup_handlers();
    }
    let (launched, grandchild) = launch_spawner(&env, &opts);
    println!("PIDS {} {}", launched.pid(), grandchild);
    if mode == "panic" {
        // Simulate a Launched that is never dropped (held by another thread,
        // leaked...): only the panic hook can clean up.
        std::mem::forget(launched);
        panic!("helper panics on purpose");
    }
    // Until the test that started this process ends it.
    loop {
        std::thread::park();
    }
}

#[test]
fn listening_ports_are_the_services_own_not_its_inspectors() {
    for command in [
        cmd(&["node", &fixture_str("server.js")]),
        cmd(&["sh", "-c", &format!("node {}", fixture_str("server.js"))]),
    ] {
        let launched = Target::launch_with(&command, &[], &quiet()).unwrap();
        let line = launched
            .wait_for_output(|l| l.starts_with("LISTENING "), Duration::from_secs(30))
            .expect("server listening");
        let port: u16 = line["LISTENING ".len()..].trim().parse().unwrap();
        assert_eq!(launched.listening_ports(), vec![port], "{command:?}");
    }
}
