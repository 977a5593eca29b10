//! `leakhunt diff`: DevTools' Comparison view between two snapshots of one process.

use anyhow::{anyhow, Result};
use leakhunt_diagnosis::{compare, ClassDiff, Comparison, SnapshotObjects};
use leakhunt_engine::NodeIndex;
use leakhunt_printer::{format_bytes, format_bytes_delta, format_count, Align, Style, Table};
use serde::Serialize;

use crate::cli::DiffArgs;
use crate::load::analyse_file;
use crate::output::{print_json, print_text};
use crate::EXIT_CLEAN;

#[derive(Serialize)]
struct Output<'a> {
    base: String,
    after: String,
    #[serde(flatten)]
    comparison: &'a Comparison,
    /// With `--class`: that class's largest new objects in the later snapshot.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    new_objects: Vec<NewObject>,
}

#[derive(Serialize)]
struct NewObject {
    id: u32,
    self_size: u64,
    retained_size: u64,
}

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
    let out = Output {
        base: args.base.display().to_string(),
        after: args.after.display().to_string(),
        comparison: &comparison,
        new_objects,
    };
    if args.json {
        print_json(&out)?;
    } else {
        print_text(&render(&out, Style::for_stdout()))?;
    }
    Ok(EXIT_CLEAN)
}

/// The class's objects in the later snapshot whose ids the earlier one lacks, largest first.
fn largest_new(
    a: &leakhunt_engine::Analysis,
    before: &SnapshotObjects,
    class: &str,
) -> Vec<NewObject> {
    let Some(c) = a.classes.find(class) else {
        return Vec::new();
    };
    let g = &a.graph;
    let mut found: Vec<NewObject> = (0..g.node_count() as NodeIndex)
        .filter(|&n| a.classes.class_of(g, n) == c && g.self_size(n) > 0)
        .filter(|&n| {
            before
                .objects
                .binary_search_by_key(&g.node_id(n), |o| o.0)
                .is_err()
        })
        .map(|n| NewObject {
            id: g.node_id(n),
            self_size: g.self_size(n),
            retained_size: a.dominators.retained[n as usize],
        })
        .collect();
    found.sort_by_key(|o| std::cmp::Reverse(o.retained_size));
    found.truncate(20);
    found
}

fn render(out: &Output, style: Style) -> String {
    let c = out.comparison;
    let mut table = Table::new(&[
        ("Class", Align::Left),
        ("# New", Align::Right),
        ("# Deleted", Align::Right),
        ("# Delta", Align::Right),
        ("Alloc. Size", Align::Right),
        ("Freed Size", Align::Right),
        ("Size Delta", Align::Right),
        ("Retained Δ", Align::Right),
    ]);
    for r in &c.classes {
        let delta = if r.delta_count > 0 {
            format!("+{}", format_count(r.delta_count as u64))
        } else if r.delta_count < 0 {
            format!("−{}", format_count(r.delta_count.unsigned_abs()))
        } else {
            "0".into()
        };
        table.row(vec![
            r.class.clone(),
            format_count(r.new_count),
            format_count(r.deleted_count),
            delta,
            format_bytes(r.alloc_size),
            format_bytes(r.freed_size),
            format_bytes_delta(r.size_delta),
            format_bytes_delta(r.retained_size_delta),
        ]);
    }
    let mut text = format!(
        "{} compared with {}: total {} → {} ({}), {} objects in both\n\n{}",
        style.bold(&out.after),
        style.bold(&out.base),
        format_bytes(c.total_size_before),
        format_bytes(c.total_size_after),
        format_bytes_delta(c.total_size_after as i64 - c.total_size_before as i64),
        format_count(c.common_objects),
        table.render(50)
    );
    if !out.new_objects.is_empty() {
        text.push_str(
            "\nLargest new objects (see them with `leakhunt retainers AFTER --id ID`):\n",
        );
        for o in &out.new_objects {
            text.push_str(&format!(
                "  @{}  self {}, retains {}\n",
                o.id,
                format_bytes(o.self_size),
                format_bytes(o.retained_size)
            ));
        }
    }
    text
}
