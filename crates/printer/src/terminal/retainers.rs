//! `retainers`: each object with its sizes and where it is defined, then its paths from the
//! GC roots.

use leakhunt_findings::{RetainedObject, RetainersReport};

use super::path_block;
use crate::path::{object_label, position};
use crate::{format_bytes, Style};

pub fn retainers(r: &RetainersReport, style: Style) -> String {
    let mut text = String::new();
    for t in &r.targets {
        text.push_str(&retained_object(t, style));
        text.push('\n');
    }
    text
}

/// One object: its sizes, where it is defined, and each of its paths from the GC roots
/// (`retainers`, and the new objects of `diff --class`).
pub fn retained_object(t: &RetainedObject, style: Style) -> String {
    let mut text = format!(
        "{} @{}  self {}, retains {}{}\n",
        style.bold(&object_label(&t.object)),
        t.object.id,
        format_bytes(t.self_size),
        style.bold(&format_bytes(t.retained_size)),
        t.distance
            .map(|d| format!(", distance {d}"))
            .unwrap_or_default()
    );
    if let Some(l) = &t.object.location {
        text.push_str(&format!("  defined at {}\n", style.cyan(&position(l))));
    }
    if t.paths.is_empty() {
        text.push_str("  no path from the GC roots: only weak references or nothing hold it\n");
    }
    for (i, p) in t.paths.iter().enumerate() {
        // Each step is one reference, and the GC roots hold the last holder.
        text.push_str(&format!(
            "\n  {} ({} references)\n",
            style.dim(&format!("path {}", i + 1)),
            p.steps.len() + 1
        ));
        text.push_str(&path_block(p, "    "));
    }
    text
}

#[cfg(test)]
mod tests {
    use leakhunt_findings::{
        EdgeKind, HeapObject, PathStep, RetainedObject, RetainerPath, SourceLocation,
        SCHEMA_VERSION,
    };

    use super::*;

    #[test]
    fn an_object_with_its_place_and_one_path() {
        let at = |file: &str, line| SourceLocation {
            file: file.into(),
            line,
            column: 14,
            function: None,
        };
        let object = HeapObject {
            id: 42331,
            class: "Planted".into(),
            name: None,
            location: Some(at("src/planted.ts", 2)),
        };
        let report = RetainersReport {
            schema_version: SCHEMA_VERSION,
            file: "app.heapsnapshot".into(),
            targets: vec![RetainedObject {
                object: object.clone(),
                self_size: 40,
                retained_size: 10_500,
                distance: Some(2),
                paths: vec![RetainerPath {
                    object,
                    steps: vec![
                        PathStep {
                            edge: "478".into(),
                            edge_type: EdgeKind::Element,
                            holder_id: 47675,
                            holder_class: "Array".into(),
                            holder_name: None,
                            location: None,
                        },
                        PathStep {
                            edge: "keepMe".into(),
                            edge_type: EdgeKind::Property,
                            holder_id: 6155,
                            holder_class: "(closure)".into(),
                            holder_name: Some("keepMe".into()),
                            location: Some(at("src/planted.ts", 9)),
                        },
                    ],
                }],
            }],
        };
        assert_eq!(
            retainers(&report, Style::plain()),
            "Planted @42331  self 40 B, retains 10.5 kB, distance 2\n\
             \x20 defined at src/planted.ts:2:14\n\
             \n\
             \x20 path 1 (3 references)\n\
             \x20     Planted @42331  (src/planted.ts:2:14)\n\
             \x20   ← [478] in Array @47675\n\
             \x20   ← .keepMe in (closure) keepMe @6155  (src/planted.ts:9:14)\n\
             \x20   ← (GC roots)\n\
             \n"
        );
    }
}
