//! The ladder the mutants come from: three snapshots of a leaking Node process, and an
//! object (class and id) that every one of them holds.

use std::path::PathBuf;

use super::*;

pub(super) struct Ladder {
    pub(super) files: [PathBuf; 3],
    pub(super) texts: [Vec<u8>; 3],
    pub(super) class: String,
    pub(super) id: u32,
}

pub(super) fn source_ladder() -> Ladder {
    // Read only: the mutants are written elsewhere.
    let script = repo_root().join("crates/diagnosis/tests/fixtures/map-cache-leak.js");
    let files: [PathBuf; 3] = leakhunt_testkit::snapshots::ladder(&node(), &script, 3)
        .try_into()
        .unwrap();
    let texts = files.clone().map(|f| std::fs::read(f).unwrap());
    // An object every snapshot holds: one of the first snapshot's leaked profiles.
    let class = "UserProfile".to_string();
    let out = leakhunt_json(&[
        "retainers",
        path_str(&files[0]),
        "--class",
        &class,
        "--json",
    ]);
    let id = out["targets"][0]["id"].as_u64().unwrap() as u32;
    Ladder {
        files,
        texts,
        class,
        id,
    }
}
