//! `leakhunt summary`: the DevTools Summary view, as a table or JSON.

use anyhow::Result;
use leakhunt_engine::{SortKey, Summary};
use leakhunt_printer::{format_bytes, format_count, Align, Style, Table};
use serde::Serialize;

use crate::cli::{SortArg, SummaryArgs};
use crate::load::analyse_file;
use crate::output::{print_json, print_text};
use crate::EXIT_CLEAN;

#[derive(Serialize)]
struct SummaryJson<'a> {
    file: String,
    #[serde(flatten)]
    summary: &'a Summary,
}

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
    if args.json {
        print_json(&SummaryJson {
            file: args.file.display().to_string(),
            summary: &summary,
        })?;
    } else {
        print_text(&render(
            &args.file.display().to_string(),
            &summary,
            Style::for_stdout(),
        ))?;
    }
    Ok(EXIT_CLEAN)
}

pub fn render(file: &str, s: &Summary, style: Style) -> String {
    let t = &s.totals;
    let total = t.total_size.max(1) as f64;
    let mut table = Table::new(&[
        ("Class", Align::Left),
        ("Count", Align::Right),
        ("Shallow size", Align::Right),
        ("Retained size", Align::Right),
        ("", Align::Right),
        ("Distance", Align::Right),
    ]);
    for row in &s.classes {
        table.row(vec![
            row.class.clone(),
            format_count(row.count),
            format_bytes(row.shallow_size),
            format_bytes(row.retained_size),
            format!("{:.0}%", row.retained_size as f64 / total * 100.0),
            row.min_distance.map_or("-".into(), |d| d.to_string()),
        ]);
    }
    format!(
        "{}: {} nodes, {} edges, total {}\n\n{}",
        style.bold(file),
        format_count(t.nodes),
        format_count(t.edges),
        style.bold(&format_bytes(t.total_size)),
        table.render(60)
    )
}
