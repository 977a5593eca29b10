//! `leakhunt summary`: the DevTools Summary view, as a table or JSON.

use anyhow::Result;
use leakhunt_engine::{SortKey, Summary};
use leakhunt_findings::{ClassRow, SummaryReport, Totals, SCHEMA_VERSION};
use leakhunt_printer::{terminal, Style};

use crate::cli::{SortArg, SummaryArgs};
use crate::load::analyse_file;
use crate::output::{print_json, print_text};
use crate::EXIT_CLEAN;

pub fn run(args: &SummaryArgs) -> Result<u8> {
    let analysis = analyse_file(&args.file, false, !args.json)?;
    let mut summary = analysis.summary();
    summary.sort_by(match args.sort {
        SortArg::Retained => SortKey::Retained,
        SortArg::Shallow => SortKey::Shallow,
        SortArg::Count => SortKey::Count,
    });
    if args.top > 0 {
        summary.classes.truncate(args.top);
    }
    let report = report(args.file.display().to_string(), summary);
    if args.json {
        print_json(&report)?;
    } else {
        print_text(&terminal::summary(&report, Style::for_stdout()))?;
    }
    Ok(EXIT_CLEAN)
}

/// The engine's summary of `file` as the report the printer renders.
fn report(file: String, summary: Summary) -> SummaryReport {
    let t = summary.totals;
    SummaryReport {
        schema_version: SCHEMA_VERSION,
        file,
        totals: Totals {
            nodes: t.nodes,
            edges: t.edges,
            total_size: t.total_size,
            reachable_size: t.reachable_size,
        },
        classes: summary
            .classes
            .into_iter()
            .map(|row| ClassRow {
                class: row.class,
                count: row.count,
                shallow_size: row.shallow_size,
                retained_size: row.retained_size,
                min_distance: row.min_distance,
            })
            .collect(),
    }
}
