//! `leakhunt diff` on a terminal: the totals line, DevTools' Comparison columns plus the
//! change in retained size, and with `--class` that class's largest new objects.

use leakhunt_findings::DiffReport;

use crate::{format_bytes, format_bytes_delta, format_count, Align, Style, Table};

/// Class names longer than this are cut in the table.
const CLASS_WIDTH: usize = 50;

pub fn render(report: &DiffReport, style: Style) -> String {
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
    for r in &report.classes {
        table.row(vec![
            r.class.clone(),
            format_count(r.new_count),
            format_count(r.deleted_count),
            count_delta(r.delta_count),
            format_bytes(r.alloc_size),
            format_bytes(r.freed_size),
            format_bytes_delta(r.size_delta),
            format_bytes_delta(r.retained_size_delta),
        ]);
    }
    let size_delta = report.total_size_after as i64 - report.total_size_before as i64;
    let mut text = format!(
        "{} compared with {}: total {} → {} ({}), {} objects in both\n\n{}",
        style.bold(&report.after),
        style.bold(&report.base),
        format_bytes(report.total_size_before),
        format_bytes(report.total_size_after),
        format_bytes_delta(size_delta),
        format_count(report.common_objects),
        table.render(CLASS_WIDTH)
    );
    if !report.new_objects.is_empty() {
        // The largest few with their paths; the rest by id (all of them are in the JSON).
        text.push_str("\nLargest new objects:\n\n");
        for (i, o) in report.new_objects.iter().enumerate() {
            if i < NEW_OBJECTS_WITH_PATHS {
                text.push_str(&super::retainers::retained_object(o, style));
                text.push('\n');
            } else {
                text.push_str(&format!(
                    "@{}  self {}, retains {}\n",
                    o.object.id,
                    format_bytes(o.self_size),
                    format_bytes(o.retained_size)
                ));
            }
        }
        if report.new_objects.len() > NEW_OBJECTS_WITH_PATHS {
            text.push_str("(more paths: `leakhunt retainers AFTER --id ID`)\n");
        }
    }
    text
}

/// How many of `diff --class`'s new objects the text shows with their paths.
const NEW_OBJECTS_WITH_PATHS: usize = 3;

/// `+81,098`, `−121` (a minus sign, as the size columns write it), `0`.
fn count_delta(delta: i64) -> String {
    match delta {
        0 => "0".into(),
        d if d > 0 => format!("+{}", format_count(d as u64)),
        d => format!("−{}", format_count(d.unsigned_abs())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhunt_findings::{ClassDiff, HeapObject, RetainedObject, SCHEMA_VERSION};

    #[test]
    fn renders_totals_rows_and_new_objects() {
        let report = DiffReport {
            schema_version: SCHEMA_VERSION,
            base: "before.heapsnapshot".into(),
            after: "after.heapsnapshot".into(),
            common_objects: 588_307,
            total_size_before: 2_000,
            total_size_after: 1_000,
            classes: vec![ClassDiff {
                class: "Object".into(),
                new_count: 3,
                deleted_count: 1_124,
                delta_count: -1_121,
                ..Default::default()
            }],
            new_objects: vec![RetainedObject {
                object: HeapObject {
                    id: 42,
                    class: "Object".into(),
                    name: None,
                    location: None,
                },
                self_size: 40,
                retained_size: 1_000,
                distance: Some(3),
                paths: Vec::new(),
            }],
        };
        let text = render(&report, Style::plain());
        assert!(text.starts_with(
            "after.heapsnapshot compared with before.heapsnapshot: total 2.0 kB → 1.0 kB (−1.0 kB), 588,307 objects in both\n"
        ), "{text}");
        let row = text.lines().find(|l| l.starts_with("Object ")).unwrap();
        assert_eq!(row.split_whitespace().nth(3), Some("−1,121"), "{row}");
        assert!(
            text.ends_with(
                "Largest new objects:\n\n\
                 Object @42  self 40 B, retains 1.0 kB, distance 3\n\
                 \x20 no path from the GC roots: only weak references or nothing hold it\n\n"
            ),
            "{text}"
        );
    }
}
