//! `leakhunt summary` on a terminal: the totals line and DevTools' Summary columns.

use leakhunt_findings::SummaryReport;

use crate::{format_bytes, format_count, Align, Style, Table};

/// Class names longer than this are cut in the table.
const CLASS_WIDTH: usize = 60;

pub fn render(report: &SummaryReport, style: Style) -> String {
    let t = &report.totals;
    let total = t.total_size.max(1) as f64;
    let mut table = Table::new(&[
        ("Class", Align::Left),
        ("Count", Align::Right),
        ("Shallow size", Align::Right),
        ("Retained size", Align::Right),
        ("", Align::Right),
        ("Distance", Align::Right),
    ]);
    for row in &report.classes {
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
        style.bold(&report.file),
        format_count(t.nodes),
        format_count(t.edges),
        style.bold(&format_bytes(t.total_size)),
        table.render(CLASS_WIDTH)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhunt_findings::{ClassRow, Totals, SCHEMA_VERSION};

    #[test]
    fn renders_totals_and_rows() {
        let report = SummaryReport {
            schema_version: SCHEMA_VERSION,
            file: "app.heapsnapshot".into(),
            totals: Totals {
                nodes: 43_338,
                edges: 188_506,
                total_size: 2_000,
                reachable_size: 1_900,
            },
            classes: vec![ClassRow {
                class: "Planted".into(),
                count: 1_000,
                shallow_size: 40_000,
                retained_size: 1_500,
                min_distance: Some(10),
            }],
        };
        let text = render(&report, Style::plain());
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("app.heapsnapshot: 43,338 nodes, 188,506 edges, total 2.0 kB")
        );
        let row = text.lines().find(|l| l.starts_with("Planted")).unwrap();
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            cells,
            ["Planted", "1,000", "40.0", "kB", "1.5", "kB", "75%", "10"]
        );
    }
}
