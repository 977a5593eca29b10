//! Files leakhunt writes: never through a symlink someone planted, always private, and never
//! over the results of an earlier run.

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Command;

use crate::support::*;

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

fn is_regular_file(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
}

#[test]
fn a_hunt_never_writes_through_links_planted_in_its_folders() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shared");
    std::fs::create_dir(&out).unwrap();
    let victim = |name: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, "precious").unwrap();
        p
    };
    // The names the files used to be written under, and the targets themselves.
    let json = dir.path().join("ci-report.json");
    let planted = [
        (out.join("report.json.partial"), victim("v1")),
        (out.join("s1.heapsnapshot.partial"), victim("v2")),
        (dir.path().join("ci-report.json.partial"), victim("v3")),
        (json.clone(), victim("v4")),
    ];
    for (link, target) in &planted {
        symlink(target, link).unwrap();
    }
    let file = fixture("services").join("clean-service.js");
    let run = Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .args([
            "hunt",
            "--request",
            "GET /items/{{i}}",
            "--iterations",
            "50",
        ])
        .arg("--out")
        .arg(&out)
        .arg("--json")
        .arg(&json)
        .args(["--", "node", path_str(&file)])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(matches!(run.status.code(), Some(0 | 1)), "{stderr}");
    for (link, target) in &planted {
        assert_eq!(
            std::fs::read_to_string(target).unwrap(),
            "precious",
            "{} was written through",
            link.display()
        );
    }
    // The target that was a link is now our own file; the planted temporary names are
    // left as they were (not ours to remove).
    assert!(is_regular_file(&json));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(report["verdict"].is_string());
    for f in [
        json.clone(),
        out.join("report.json"),
        out.join("s1.heapsnapshot"),
        out.join("s3.heapsnapshot"),
    ] {
        assert!(is_regular_file(&f), "{}", f.display());
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".partial"))
        .filter(|n| n != "report.json.partial" && n != "s1.heapsnapshot.partial")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_out_folder_holding_earlier_results_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("report.json"), "earlier").unwrap();
    std::fs::write(out.join("s1.heapsnapshot"), "earlier").unwrap();
    let file = fixture("services").join("clean-service.js");
    let run = leakhunt(&[
        "hunt",
        "--request",
        "GET /items/{{i}}",
        "--iterations",
        "20",
        "--out",
        path_str(&out),
        "--",
        "node",
        path_str(&file),
    ]);
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(path_str(&out)), "{stderr}");
    assert!(stderr.contains("--out"), "says how to proceed: {stderr}");
    for name in ["report.json", "s1.heapsnapshot"] {
        assert_eq!(std::fs::read_to_string(out.join(name)).unwrap(), "earlier");
    }
}
