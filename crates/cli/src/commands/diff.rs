//! `leakhunt diff`: DevTools' Comparison view between two snapshots of one process.

use anyhow::{anyhow, Result};
use leakhunt_diagnosis::{compare, ClassDiff, SnapshotObjects};
use leakhunt_engine::NodeIndex;
use leakhunt_findings::{DiffReport, HeapObject, RetainedObject, SCHEMA_VERSION};
use leakhunt_printer::{terminal, Style};

use crate::cli::DiffArgs;
use crate::load::analyse_file;
use crate::output::{print_json, print_text};
use crate::EXIT_CLEAN;

pub fn run(args: &DiffArgs) -> Result<u8> {
    let progress = !args.json;
    let before = SnapshotObjects::from_analysis(&analyse_file(&args.base, false, progress)?);
    let after_analysis = analyse_file(&args.after, false, progress)?;
    let after = SnapshotObjects::from_analysis(&after_analysis);
    let mut comparison = compare(&before, &after)
        .map_err(|e| anyhow!("{} and {}: {e}", args.base.display(), args.after.display()))?;
    let mut new_objects = Vec::new();
    if let Some(class) = &args.class {
        comparison.classes.retain(|r| &r.class == class);
        if comparison.classes.is_empty() {
            comparison.classes.push(ClassDiff {
                class: class.clone(),
                ..Default::default()
            });
        }
        new_objects = largest_new(&after_analysis, &before, class);
    } else if args.top > 0 {
        comparison.classes.truncate(args.top);
    }
    let report = DiffReport {
        schema_version: SCHEMA_VERSION,
        base: args.base.display().to_string(),
        after: args.after.display().to_string(),
        common_objects: comparison.common_objects,
        total_size_before: comparison.total_size_before,
        total_size_after: comparison.total_size_after,
        classes: comparison.classes,
        new_objects,
    };
    if args.json {
        print_json(&report)?;
    } else {
        print_text(&terminal::diff(&report, Style::for_stdout()))?;
    }
    Ok(EXIT_CLEAN)
}

/// The class's objects in the later snapshot whose ids the earlier one lacks, largest first.
/// Their paths are left to `retainers --id`, which the text points to.
fn largest_new(
    a: &leakhunt_engine::Analysis,
    before: &SnapshotObjects,
    class: &str,
) -> Vec<RetainedObject> {
    let Some(c) = a.classes.find(class) else {
        return Vec::new();
    };
    let g = &a.graph;
    let mut found: Vec<RetainedObject> = (0..g.node_count() as NodeIndex)
        .filter(|&n| a.classes.class_of(g, n) == c && g.self_size(n) > 0)
        .filter(|&n| {
            before
                .objects
                .binary_search_by_key(&g.node_id(n), |o| o.0)
                .is_err()
        })
        .map(|n| RetainedObject {
            object: HeapObject {
                id: g.node_id(n),
                class: class.to_owned(),
                name: None,
                location: None,
            },
            self_size: g.self_size(n),
            retained_size: a.dominators.retained[n as usize],
            distance: a.distances.user_distance(n),
            paths: Vec::new(),
        })
        .collect();
    found.sort_by_key(|o| std::cmp::Reverse(o.retained_size));
    found.truncate(20);
    found
}
