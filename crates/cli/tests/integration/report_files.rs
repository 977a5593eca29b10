//! `--html`, `--markdown`, `--sarif` and GitHub Actions output, from a real hunt of a leaky
//! service: every file there, the SARIF valid against the official schema, an annotation at
//! the suspect's file and line, the step summary appended to; then `compare` and `leaks`
//! with the same flags.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::*;

#[path = "../../../printer/tests/support/sarif_schema.rs"]
mod sarif_schema;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// leakhunt in `dir`, as a GitHub Actions step of a checkout at the repository's root.
fn on_github(dir: &Path, summary: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", summary)
        .env("GITHUB_WORKSPACE", repo_root())
        .output()
        .unwrap()
}

#[test]
fn a_hunt_writes_every_report_and_annotates_the_leak_on_github() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let summary = d.join("step-summary.md");
    std::fs::write(&summary, "# An earlier step\n").unwrap();
    // A link planted at one report's name is replaced, not written through.
    let victim = d.join("victim");
    std::fs::write(&victim, "precious").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&victim, d.join("r.md")).unwrap();
    let service = fixture("services").join("listener-service.js");
    let run = on_github(
        d,
        &summary,
        &[
            "hunt",
            "--request",
            r#"POST /login {"user":"u{{i}}"}"#,
            "--iterations",
            "200",
            "--out",
            "out",
            "--json",
            "r.json",
            "--html",
            "r.html",
            "--markdown",
            "r.md",
            "--sarif",
            "r.sarif",
            "--",
            "node",
            path_str(&service),
        ],
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stdout}\n{stderr}");

    let report: serde_json::Value = serde_json::from_str(&read(&d.join("r.json"))).unwrap();
    let suspect = &report["suspects"][0];
    assert_eq!(suspect["pattern"], "event-listener", "{suspect:#}");
    let line = suspect["location"]["line"].as_u64().unwrap();
    let column = suspect["location"]["column"].as_u64().unwrap();
    let in_repo = "crates/cli/tests/fixtures/services/listener-service.js";

    // The annotation, on stdout, at the file (relative to the checkout) and line.
    let annotation = format!("::error file={in_repo},line={line},col={column},title=");
    assert!(
        stdout.lines().any(|l| l.starts_with(&annotation)),
        "no {annotation}… in:\n{stdout}"
    );
    // The step summary: appended after the earlier step's text.
    let summary = read(&summary);
    assert!(summary.starts_with("# An earlier step\n"), "{summary}");
    assert!(
        summary.contains("Event listener never removed"),
        "{summary}"
    );

    let html = read(&d.join("r.html"));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains(&format!("listener-service.js:{line}:{column}")),
        "the HTML does not show the suspect's position"
    );
    // The source line itself, marked, read from the service's file.
    assert!(html.contains("profileUpdates.on("), "no source excerpt");
    let md = read(&d.join("r.md"));
    assert!(md.contains("### 1. Event listener never removed"), "{md}");
    assert_eq!(read(&victim), "precious");

    let sarif: serde_json::Value = serde_json::from_str(&read(&d.join("r.sarif"))).unwrap();
    sarif_schema::assert_valid(&sarif);
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "event-listener");
    let region = &result["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"].as_u64(), Some(line), "{result:#}");

    // compare, with a report compared with itself: the same files, one suspect remaining.
    let run = on_github(
        d,
        &d.join("compare-summary.md"),
        &[
            "compare", "r.json", "r.json", "--html", "c.html", "--sarif", "c.sarif",
        ],
    );
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(read(&d.join("c.html")).contains("Before"));
    sarif_schema::assert_valid(&serde_json::from_str(&read(&d.join("c.sarif"))).unwrap());
    assert!(String::from_utf8_lossy(&run.stdout).contains(&annotation));
}

#[test]
fn leaks_writes_reports_beside_its_json() {
    let dir = tempfile::tempdir().unwrap();
    let snaps = ladder("map-cache-leak.js", dir.path());
    let md = dir.path().join("r.md");
    let sarif = dir.path().join("r.sarif");
    let mut args = vec!["leaks"];
    args.extend(snaps.iter().map(String::as_str));
    args.extend([
        "--json",
        "--markdown",
        path_str(&md),
        "--sarif",
        path_str(&sarif),
    ]);
    let run = on_github(dir.path(), &dir.path().join("summary.md"), &args);
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // stdout stays JSON; the annotations went to stderr, which the runner reads too.
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON on stdout");
    assert_eq!(json["verdict"], "leak");
    assert!(String::from_utf8_lossy(&run.stderr).contains("::error "));
    assert!(read(&md).contains("## leakhunt — Leak:"));
    sarif_schema::assert_valid(&serde_json::from_str(&read(&sarif)).unwrap());
}
