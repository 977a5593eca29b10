//! Reading and analysing a snapshot file with progress, shared by every command that takes
//! a snapshot.

use std::path::Path;

use anyhow::Result;
use leakhunt_engine::reader::{self, ReadOptions};
use leakhunt_engine::{Analysis, AnalysisOptions};

use crate::progress::Progress;

/// Reads and analyses `path`; `retainer_paths` also keeps each node's shortest retainer.
pub fn analyse_file(path: &Path, retainer_paths: bool, show_progress: bool) -> Result<Analysis> {
    let progress = Progress::new(show_progress);
    let total = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let counter = progress.start(&format!("Reading {name}"), total);
    let opts = ReadOptions {
        bytes_read: Some(counter),
    };
    let graph = reader::read_path(path, &opts)?;
    let on_phase =
        |p: leakhunt_engine::Phase| progress.set_label(&format!("{name}: {}", p.describe()));
    let analysis = Analysis::new(
        graph,
        &AnalysisOptions {
            retainer_paths,
            on_phase: Some(&on_phase),
        },
    );
    progress.finish();
    Ok(analysis)
}
