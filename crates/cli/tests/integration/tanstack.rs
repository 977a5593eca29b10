//! The walkthrough's story on a real TanStack Start server: React SSR built by `vite build`
//! with Nitro's node-server output, run on Node 24. Each page render opens a connection that
//! registers a listener on a process-wide emitter; the leaky build never removes it, the
//! fixed one does. The listener's line is in a `.ts` file two source maps away from the code
//! that runs (Nitro's bundle of Vite's bundle). The builds are made by
//! scripts/build-tanstack-fixture.sh (install-runtimes.sh runs it) into .cache/tanstack-start.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

/// The folder of one built variant (`leaky`, `fixed`).
fn build(variant: &str) -> PathBuf {
    let dir = repo_root().join(".cache/tanstack-start").join(variant);
    assert!(
        dir.join(".output/server/index.mjs").is_file(),
        "{} is not built: run scripts/install-runtimes.sh (scripts/test does)",
        dir.display()
    );
    dir
}

struct Hunt {
    report: serde_json::Value,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `leakhunt hunt` of the built server in `dir`, rendering the dashboard of the same 150
/// users every round. Anything but a 200 is a failed request: a build that only answers
/// errors would otherwise look clean.
fn hunt(dir: &Path) -> Hunt {
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("report.json");
    let scenario = out.path().join("scenario.toml");
    std::fs::write(
        &scenario,
        "iterations = 150\n\n[[step]]\npath = \"/?user=u{{i}}\"\nexpect_status = 200\n",
    )
    .unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .current_dir(dir)
        .arg("hunt")
        .arg("--scenario")
        .arg(&scenario)
        .arg("--out")
        .arg(out.path().join("out"))
        .arg("--json")
        .arg(&json)
        .arg("--")
        .arg(node24())
        .arg(".output/server/index.mjs")
        // Nitro's server listens on $PORT; on loopback only.
        .env("HOST", "127.0.0.1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let report = std::fs::read_to_string(&json)
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(serde_json::Value::Null);
    for round in report["load"].as_array().into_iter().flatten() {
        assert_eq!(round["failed"], 0, "requests failed: {round}");
    }
    Hunt {
        report,
        code: run.status.code(),
        stdout: String::from_utf8_lossy(&run.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&run.stderr).into_owned(),
    }
}

/// The 1-based line marked `// LEAK:` in the variant's source.
fn leak_line(file: &Path) -> u64 {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .position(|l| l.contains("// LEAK:"))
        .expect("a // LEAK: marker") as u64
        + 1
}

#[test]
fn the_listener_is_found_at_its_ts_line_through_both_source_maps() {
    let dir = build("leaky");
    let h = hunt(&dir);
    assert_eq!(h.code, Some(1), "{}\n{}", h.stdout, h.stderr);
    let top = &h.report["suspects"][0];
    assert_eq!(top["pattern"], "event-listener", "{top:#}");
    // The code that runs is .output/server/_ssr/*.mjs (Nitro's bundle), whose map points at
    // Vite's bundle under node_modules/.nitro, whose map points at the .ts source.
    let loc = &top["location"];
    assert_eq!(loc["file"], "src/lib/realtime.ts", "{loc}");
    assert_eq!(
        loc["line"].as_u64(),
        Some(leak_line(&dir.join("src/lib/realtime.ts"))),
        "{loc}"
    );
    // The emitter's variable is named by the module that declares it, not the bundle.
    let owner = &top["owner"];
    assert_eq!(owner["module"], "src/lib/realtime.ts", "{owner}");
    assert_eq!(owner["path"], "updates", "{owner}");
    // The object's own line in the path is mapped the same way.
    assert_eq!(
        top["path"]["object"]["location"]["file"],
        "src/lib/realtime.ts"
    );
}

#[test]
fn the_fixed_build_is_clean() {
    let h = hunt(&build("fixed"));
    assert_eq!(
        h.report["verdict"], "clean",
        "{:#}\n{}",
        h.report["suspects"], h.stderr
    );
    assert_eq!(h.code, Some(0), "{}\n{}", h.stdout, h.stderr);
}
