//! Allocation stacks: `hunt` records where the leaked objects were made (V8's allocation
//! tracking), `location` becomes the allocating statement in the app's own code, a library
//! that makes or stores them is named beside it, and `leaks` reads the stacks from
//! snapshots that have them and says how to record them when they do not.

use std::path::Path;
use std::process::Command;

use crate::support::*;

struct Hunt {
    report: serde_json::Value,
    stdout: String,
    stderr: String,
    code: Option<i32>,
    out: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// `leakhunt hunt ARGS -- node SCRIPT` in `cwd`, with `env`.
fn hunt(args: &[&str], script: &Path, cwd: &Path, env: &[(&str, &Path)]) -> Hunt {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let out = dir.path().join("out");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leakhunt"));
    cmd.arg("hunt")
        .args(args)
        .arg("--out")
        .arg(&out)
        .arg("--json")
        .arg(&json)
        .arg("--")
        .arg(node())
        .arg(script)
        .current_dir(cwd)
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().unwrap();
    let report = std::fs::read_to_string(&json)
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(serde_json::Value::Null);
    Hunt {
        report,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code(),
        out,
        _dir: dir,
    }
}

/// The 1-based line holding `marker`.
fn line_of(file: &Path, marker: &str) -> u64 {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("{marker} in {}", file.display())) as u64
        + 1
}

/// An object made in a helper and kept by the handler: the stack names the statement in the
/// helper that makes it (not the helper's first line, which is all V8 records per frame) and
/// the handler's call of it; the location stays the line that keeps it, which the rules read
/// in the program (a sample's stack only adds to it). Offline, `leaks` on the
/// hunt's own snapshots finds the same stacks, with no hint.
#[test]
fn an_object_made_in_a_helper_is_located_at_the_statement_that_makes_it() {
    let services = fixture("services");
    let file = services.join("helper-alloc-service.js");
    let h = hunt(
        &[
            "--request",
            r#"POST /orders {"order":"o{{seq}}"}"#,
            "--iterations",
            "1000",
        ],
        &file,
        &services,
        &[],
    );
    assert_eq!(h.code, Some(1), "{}", h.stderr);
    let top = &h.report["suspects"][0];
    let loc = &top["location"];
    assert_eq!(loc["file"], "helper-alloc-service.js", "{loc}");
    assert_eq!(loc["line"], line_of(&file, "// LEAK"), "{loc}");
    assert!(top.get("library_location").is_none(), "{top:#}");

    let stack = &top["allocation_stacks"][0];
    // Allocations are tracked in the tail of the last round (a quarter of 1000 iterations,
    // one entry each), and V8 keeps a trace for most of them: long enough a run for V8 to
    // optimize the handler, which without the hunt's flags lost the traces and inlined
    // the helper out of the stack.
    let count = stack["count"].as_u64().unwrap();
    assert!((125..=250).contains(&count), "{stack:#}");
    assert!(stack["bytes"].as_u64().unwrap() > count * 100, "{stack:#}");
    let frames = stack["frames"].as_array().unwrap();
    assert_eq!(frames[0]["file"], "helper-alloc-service.js", "{frames:#?}");
    assert_eq!(frames[0]["line"], line_of(&file, "// ALLOC"), "{frames:#?}");
    assert_eq!(frames[0]["function"], "buildEntry", "{frames:#?}");
    // The handler, at its call of the helper.
    assert_eq!(frames[1]["file"], "helper-alloc-service.js", "{frames:#?}");
    assert_eq!(frames[1]["line"], line_of(&file, "// LEAK"), "{frames:#?}");
    assert_eq!(frames[1]["column"], 19, "{frames:#?}");
    for f in frames {
        for field in ["file", "line", "column"] {
            assert!(!f[field].is_null(), "{field} in {f}");
        }
    }
    assert!(
        h.stdout
            .contains("allocated by buildEntry helper-alloc-service.js:"),
        "{}",
        h.stdout
    );

    // The same snapshots offline.
    let snaps: Vec<String> = (1..=3)
        .map(|i| path_str(&h.out.join(format!("s{i}.heapsnapshot"))).to_string())
        .collect();
    let mut args = vec!["leaks", "--json"];
    args.extend(snaps.iter().map(String::as_str));
    let out = Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .args(&args)
        .current_dir(&services)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["suspects"][0]["location"], *loc, "{stderr}");
    assert_eq!(r["suspects"][0]["allocation_stacks"][0]["count"], count);
    // As text: the stack, and no hint about recording one.
    let text = Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .args(&args[..1])
        .args(&snaps)
        .current_dir(&services)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("allocated by buildEntry"), "{text}");
    assert!(!text.contains("--track-heap-objects"), "{text}");
}

/// A library that keeps what it is given: the object is made on the app's line, and the
/// library's line that stores it is named beside it.
#[test]
fn a_library_that_stores_is_named_beside_the_app_line() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture("services/stacks");
    let package = dir.path().join("node_modules/tiny-store");
    std::fs::create_dir_all(&package).unwrap();
    for f in ["index.js", "package.json"] {
        std::fs::copy(src.join("tiny-store").join(f), package.join(f)).unwrap();
    }
    let app = dir.path().join("app.js");
    std::fs::copy(src.join("app.js"), &app).unwrap();
    let h = hunt(
        &[
            "--request",
            r#"POST /events {"kind":"k{{seq}}"}"#,
            "--iterations",
            "1000",
        ],
        &app,
        dir.path(),
        &[("LEAKHUNT_SERVE", &fixture("services/serve.js"))],
    );
    assert_eq!(h.code, Some(1), "{}", h.stderr);
    let top = &h.report["suspects"][0];
    let loc = &top["location"];
    assert_eq!(loc["file"], "app.js", "{top:#}");
    assert_eq!(loc["line"], line_of(&app, "// LEAK"), "{top:#}");
    let lib = &top["library_location"];
    assert_eq!(lib["file"], "node_modules/tiny-store/index.js", "{top:#}");
    assert_eq!(
        lib["line"],
        line_of(&package.join("index.js"), "// STORE"),
        "{top:#}"
    );
    assert!(
        h.stdout
            .contains("in library keep node_modules/tiny-store/index.js:"),
        "{}",
        h.stdout
    );
}

/// Without tracking there are no stacks, and the place comes from reading the snapshot (the
/// line that stores into the cache).
#[test]
fn no_allocation_stacks_records_none() {
    let services = fixture("services");
    let file = services.join("cache-service.js");
    let h = hunt(
        &[
            "--request",
            "GET /users/{{seq}}",
            "--iterations",
            "150",
            "--no-allocation-stacks",
        ],
        &file,
        &services,
        &[],
    );
    assert_eq!(h.code, Some(1), "{}", h.stderr);
    let top = &h.report["suspects"][0];
    assert!(top.get("allocation_stacks").is_none(), "{top:#}");
    assert_eq!(
        top["location"]["line"],
        line_of(&file, "// LEAK"),
        "{top:#}"
    );
    assert!(!h.stdout.contains("allocated by"), "{}", h.stdout);
}

/// Snapshots written without allocation tracking: `leaks` says how to record the stacks (one
/// line at the end of its text report).
#[test]
fn leaks_on_snapshots_without_stacks_says_how_to_record_them() {
    let dir = tempfile::tempdir().unwrap();
    let files = ladder("map-cache-leak.js", dir.path());
    let mut args = vec!["leaks"];
    args.extend(files.iter().map(String::as_str));
    let out = leakhunt(&args);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("node --track-heap-objects")
            && stdout.contains("Allocation instrumentation on timeline"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().filter(|l| l.contains("hint:")).count(), 1);
}
