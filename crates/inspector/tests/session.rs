//! Launch a real node service, talk CDP to it, stream snapshots.
// The tests launch services and signal processes: Unix only, as launching is.
#![cfg(unix)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use leakhunt_inspector::{InspectorError, LaunchOptions, Target};

/// The bulk of the happy path on one Node: scripts, heap usage, GC,
/// `debugger;` not pausing, snapshots to a file and to a sink.
fn full_round(node: &str) {
    let dir = tempfile::tempdir().unwrap();
    let server = fixture_str("server.js");
    let launched = Target::launch_with(&cmd(&[node, &server]), &[], &quiet()).unwrap();
    assert!(
        launched.notice().is_none(),
        "node is launched directly, without NODE_OPTIONS"
    );
    assert!(
        launched.ws_url().starts_with("ws://127.0.0.1:"),
        "{}",
        launched.ws_url()
    );
    assert_eq!(launched.endpoint().title.as_deref(), Some(server.as_str()));
    launched
        .wait_for_output(|l| l.starts_with("LISTENING "), Duration::from_secs(60))
        .expect("server listening");

    let mut s = launched.connect().unwrap();
    s.enable().unwrap();
    let url = format!("file://{server}");
    let script = s
        .scripts()
        .iter()
        .find(|sc| sc.url == url)
        .unwrap_or_else(|| {
            panic!("{url} not among {} scripts", s.scripts().len());
        });
    assert!(!script.hash.is_empty());
    assert!(s.script(&script.script_id).is_some());
    assert!(s
        .scripts()
        .iter()
        .any(|sc| sc.url.starts_with("node:internal/")));

    // `debugger;` runs every 10 ms: the counter must keep moving.
    let c1 = s.evaluate("globalThis.counter").unwrap().as_u64().unwrap();
    let mut c2 = c1;
    wait_until(
        Duration::from_secs(60),
        "the counter to move (paused on `debugger;`?)",
        || {
            c2 = s.evaluate("globalThis.counter").unwrap().as_u64().unwrap();
            c2 > c1 + 5
        },
    );

    // The Debugger stays off while the service runs (it would change what the heap keeps):
    // a script loaded now is not reported until the table is read again.
    let late = dir.path().join("late.js");
    std::fs::write(&late, "module.exports = () => 1;\n").unwrap();
    let late = late.canonicalize().unwrap();
    s.evaluate(&format!(
        "process.mainModule.require({:?})()",
        late.to_str().unwrap()
    ))
    .unwrap();
    let late_url = format!("file://{}", late.display());
    let known = |s: &leakhunt_inspector::Session| s.scripts().iter().any(|sc| sc.url == late_url);
    s.heap_usage().unwrap();
    assert!(!known(&s), "reported while the Debugger should be off");
    s.refresh_scripts().unwrap();
    assert!(
        known(&s),
        "{late_url} not among the scripts after a refresh"
    );
    let c3 = s.evaluate("globalThis.counter").unwrap().as_u64().unwrap();
    wait_until(
        Duration::from_secs(60),
        "the counter to move after the refresh",
        || s.evaluate("globalThis.counter").unwrap().as_u64().unwrap() > c3 + 5,
    );

    let (used, total) = s.heap_usage().unwrap();
    assert!(
        used > 1_000_000 && total >= used / 2,
        "used {used} total {total}"
    );
    s.collect_garbage().unwrap();
    let mem = s.memory_usage().unwrap();
    assert!(mem.rss > mem.heap_used && mem.heap_used > 0, "{mem:?}");
    assert_eq!(
        s.evaluate("process.pid").unwrap().as_u64().unwrap() as u32,
        launched.pid()
    );
    assert_eq!(s.evaluate("undefined").unwrap(), serde_json::Value::Null);
    assert_eq!(s.evaluate("0/0").unwrap(), "NaN");
    assert_eq!(
        s.evaluate("({a: [1, 'b']})").unwrap(),
        serde_json::json!({"a": [1, "b"]})
    );

    // To a file, teed into memory.
    let path = dir.path().join("round-1.heapsnapshot");
    let mut tee = Vec::new();
    let stats = s.snapshot_to_file(&path, Some(&mut tee)).unwrap();
    let nodes = check_snapshot_file(&path);
    assert_eq!(tee, std::fs::read(&path).unwrap());
    assert_eq!(stats.bytes, tee.len() as u64);
    assert!(stats.chunks >= 1);
    eprintln!(
        "{node}: {nodes} nodes, {} bytes in {} chunks, {:?} total, {:.0} MB/s transfer",
        stats.bytes,
        stats.chunks,
        stats.elapsed,
        stats.transfer_mb_per_s()
    );

    // To a sink, with progress; the session is reusable afterwards.
    let mut bytes = 0u64;
    let mut last = Default::default();
    let stats2 = s
        .take_snapshot(
            &mut |c| {
                bytes += c.len() as u64;
                Ok(())
            },
            &mut |p| last = p,
        )
        .unwrap();
    assert_eq!(bytes, stats2.bytes);
    assert!(
        last.graph_finished && last.total_nodes > 0 && last.bytes == bytes,
        "{last:?}"
    );
    assert_eq!(s.auto_resumed(), 0);
    let c3 = s.evaluate("globalThis.counter").unwrap().as_u64().unwrap();
    assert!(c3 > c2);
    drop(s);
    let pid = launched.pid();
    launched.shutdown().unwrap();
    assert!(wait_gone(pid, Duration::from_secs(60)));
}

#[test]
fn node20_full_round() {
    full_round("node");
}

#[test]
fn node24_full_round() {
    let node = node24();
    assert!(
        node.exists(),
        "Node 24 is missing at {} (run scripts/install-runtimes.sh, or set LEAKHUNT_NODE24)",
        node.display()
    );
    full_round(node.to_str().unwrap());
}

#[test]
fn sink_error_keeps_session_usable_and_partial_is_removed() {
    let launched = launch_server();
    let mut s = launched.connect().unwrap();
    s.enable().unwrap();
    let mut calls = 0;
    let err = s
        .take_snapshot(
            &mut |_| {
                calls += 1;
                Err(std::io::Error::other("disk full"))
            },
            &mut |_| {},
        )
        .unwrap_err();
    assert!(matches!(err, InspectorError::Sink(_)), "{err}");
    assert_eq!(calls, 1, "sink is not called again after it failed");
    assert_eq!(s.evaluate("1 + 1").unwrap(), 2);

    // A failing tee: the partial file goes, nothing else is touched.
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("keep.txt");
    std::fs::write(&other, "mine").unwrap();
    let path = dir.path().join("s.heapsnapshot");
    struct Broken;
    impl std::io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("pipe broke"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let err = s.snapshot_to_file(&path, Some(&mut Broken)).unwrap_err();
    assert!(matches!(err, InspectorError::Sink(_)), "{err}");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("keep.txt")]);

    // A link planted where the snapshot used to be written first is neither followed nor
    // in the way, and a link at the target itself is replaced, not written through.
    let planted = dir.path().join("s.heapsnapshot.partial");
    std::os::unix::fs::symlink(&other, &planted).unwrap();
    std::os::unix::fs::symlink(&other, &path).unwrap();
    s.snapshot_to_file(&path, None).unwrap();
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "mine");
    assert!(std::fs::symlink_metadata(&path).unwrap().is_file());
    assert!(std::fs::symlink_metadata(&planted).unwrap().is_symlink());
}

#[test]
fn command_and_evaluate_errors() {
    let launched = launch_server();
    let mut s = launched.connect().unwrap();
    let err = s
        .call("HeapProfiler.noSuchMethod", serde_json::json!({}))
        .unwrap_err();
    assert!(matches!(err, InspectorError::Command { .. }), "{err}");
    assert!(
        err.to_string().contains("HeapProfiler.noSuchMethod"),
        "{err}"
    );
    let err = s.evaluate("throw new Error('kaput')").unwrap_err();
    assert!(err.to_string().contains("kaput"), "{err}");
    // `require` is not defined in Runtime.evaluate of a CJS main; getBuiltinModule is.
    assert!(s.evaluate("require('v8')").is_err());
    let n = s
        .evaluate("process.getBuiltinModule('v8').getHeapStatistics().total_heap_size")
        .unwrap();
    assert!(n.as_u64().unwrap() > 0);
}

#[test]
fn target_dies_mid_snapshot() {
    let launched = launch_server();
    let pid = launched.pid() as i32;
    let mut s = launched.connect().unwrap();
    s.enable().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dead.heapsnapshot");
    let mut killed = false;
    let err = s
        .snapshot_to_file_with_progress(&path, None, &mut |p| {
            if p.chunks >= 1 && !killed {
                killed = true;
                signal(pid, libc::SIGKILL);
            }
        })
        .unwrap_err();
    assert!(killed);
    assert!(matches!(err, InspectorError::Disconnected { .. }), "{err}");
    assert!(
        err.to_string().contains("HeapProfiler.takeHeapSnapshot"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "neither the snapshot nor its temporary file"
    );
    // Later calls fail with the same story (not a timeout of their own).
    assert!(matches!(
        s.heap_usage(),
        Err(InspectorError::Disconnected { .. })
    ));
    // The socket closes a moment before the process can be reaped.
    let mut launched = launched;
    let mut err = None;
    wait_until(
        Duration::from_secs(60),
        "the killed target to stop counting as running",
        || {
            err = launched.check_running().err();
            err.is_some()
        },
    );
    let err = err.unwrap();
    assert!(err.to_string().contains("killed by signal 9"), "{err}");
}

#[test]
fn inspector_lines_are_swallowed_or_shown() {
    use std::sync::{Arc, Mutex};
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = seen.clone();
    let opts = LaunchOptions {
        forward: leakhunt_inspector::Forward::Callback(Arc::new(move |_, l| {
            sink.lock().unwrap().push(l.to_string())
        })),
        ..quiet()
    };
    let launched =
        Target::launch_with(&cmd(&["node", &fixture_str("server.js")]), &[], &opts).unwrap();
    launched
        .wait_for_output(|l| l.starts_with("LISTENING"), Duration::from_secs(60))
        .unwrap();
    let s = launched.connect().unwrap();
    drop(s);
    // Node writes its inspector lines before the code a new session runs: once that code's
    // line arrived, any inspector line has too.
    let mut s = launched.connect().unwrap();
    s.evaluate("console.error('MARK')").unwrap();
    wait_until(Duration::from_secs(60), "the MARK line", || {
        seen.lock().unwrap().iter().any(|l| l == "MARK")
    });
    let lines = seen.lock().unwrap().clone();
    assert!(
        lines.iter().any(|l| l.starts_with("LISTENING")),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains("Debugger")), "{lines:?}");
}

/// Streaming speed on a bigger heap: `BIG_MB=40 cargo test -p leakhunt-inspector
/// --release --test session snapshot_throughput -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark; run by hand"]
fn snapshot_throughput() {
    let mb = std::env::var("BIG_MB").unwrap_or_else(|_| "40".into());
    let mut nodes = vec!["node".to_string()];
    if node24().exists() {
        nodes.push(node24().to_string_lossy().into_owned());
    }
    for node in nodes {
        let env = vec![("BIG_MB".to_string(), mb.clone())];
        let launched =
            Target::launch_with(&cmd(&[&node, &fixture_str("big.js")]), &env, &quiet()).unwrap();
        launched
            .wait_for_output(|l| l == "READY", Duration::from_secs(60))
            .unwrap();
        let mut s = launched.connect().unwrap();
        s.enable().unwrap();
        s.collect_garbage().unwrap();
        let (used, _) = s.heap_usage().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.heapsnapshot");
        for round in 0..2 {
            let stats = s.snapshot_to_file(&path, None).unwrap();
            check_snapshot_file(&path);
            let mut sink_only = 0u64;
            let cpu0 = cpu_time();
            let t = Instant::now();
            let st2 = s
                .take_snapshot(
                    &mut |c| {
                        sink_only += c.len() as u64;
                        Ok(())
                    },
                    &mut |_| {},
                )
                .unwrap();
            let our_cpu = cpu_time() - cpu0;
            eprintln!(
                "{node} round {round}: our CPU during the sink-only snapshot {our_cpu:.2?}; heap {:.1} MB; to file: {:.1} MB in {} chunks, total {:.2?}, transfer {:.2?} = {:.0} MB/s; \
                 to a counting sink: total {:.2?}, transfer {:.0} MB/s",
                used as f64 / 1e6,
                stats.bytes as f64 / 1e6,
                stats.chunks,
                stats.elapsed,
                stats.transfer,
                stats.transfer_mb_per_s(),
                t.elapsed(),
                st2.transfer_mb_per_s(),
            );
            std::fs::remove_file(&path).unwrap();
        }
    }
}

fn cpu_time() -> Duration {
    // SAFETY: rusage is plain data: all zeroes is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let t = |tv: libc::timeval| Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000);
    t(ru.ru_utime) + t(ru.ru_stime)
}
