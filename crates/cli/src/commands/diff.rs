//! `leakhunt diff`: DevTools' Comparison view between two snapshots of one process.

use anyhow::{anyhow, Result};
use leakhunt_diagnosis::{compare, ClassDiff, Locator, SnapshotObjects};
use leakhunt_engine::{Analysis, NodeIndex};
use leakhunt_findings::{DiffReport, RetainedObject, SCHEMA_VERSION};
use leakhunt_printer::{terminal, Style};

use crate::cli::DiffArgs;
use crate::load::analyse_file;
use crate::output::{print_json, print_text};
use crate::EXIT_CLEAN;

pub fn run(args: &DiffArgs) -> Result<u8> {
    let progress = !args.json;
    let before = SnapshotObjects::from_analysis(&analyse_file(&args.base, false, progress)?);
    // With --class the new objects are shown with their paths: keep each node's retainer.
    let after_analysis = analyse_file(&args.after, args.class.is_some(), progress)?;
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

/// The class's objects in the later snapshot whose ids the earlier one lacks, largest first,
/// each with its shortest path and source positions as `retainers` gives them.
fn largest_new(a: &Analysis, before: &SnapshotObjects, class: &str) -> Vec<RetainedObject> {
    let Some(c) = a.classes.find(class) else {
        return Vec::new();
    };
    let g = &a.graph;
    let mut found: Vec<NodeIndex> = (0..g.node_count() as NodeIndex)
        .filter(|&n| a.classes.class_of(g, n) == c && g.self_size(n) > 0)
        .filter(|&n| {
            before
                .objects
                .binary_search_by_key(&g.node_id(n), |o| o.0)
                .is_err()
        })
        .collect();
    found.sort_by_key(|&n| std::cmp::Reverse(a.dominators.retained[n as usize]));
    found.truncate(NEW_OBJECTS);
    let locator = Locator::new(a, Default::default(), None);
    found
        .into_iter()
        .map(|n| locator.retained_object(n, 1))
        .collect()
}

/// How many new objects `diff --class` reports.
const NEW_OBJECTS: usize = 20;
