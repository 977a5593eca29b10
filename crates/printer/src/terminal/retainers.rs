//! `retainers`: each object with its sizes and where it is defined, then its paths from the
//! GC roots.

use leakhunt_findings::RetainersReport;

use super::path_block;
use crate::path::{object_label, position};
use crate::{format_bytes, Style};

pub fn retainers(r: &RetainersReport, style: Style) -> String {
    let mut text = String::new();
    for t in &r.targets {
        text.push_str(&format!(
            "{} @{}  self {}, retains {}{}\n",
            style.bold(&object_label(&t.object)),
            t.object.id,
            format_bytes(t.self_size),
            style.bold(&format_bytes(t.retained_size)),
            t.distance
                .map(|d| format!(", distance {d}"))
                .unwrap_or_default()
        ));
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
        text.push('\n');
    }
    text
}
