//! A suspect's representative retainer path, leaked object first, as lines a person reads.
//! Long chains (Node keeps timers and EventTarget listeners in linked lists, hundreds of hops
//! long) are folded: consecutive identical hops become one line with a count.

use leakhunt_engine::graph::HeapGraph;
use leakhunt_engine::labels::{edge_label, node_label};
use leakhunt_engine::{Analysis, Locations, NodeIndex, RetainerPath};

/// One line of a displayed path: `edge in holder`, or a folded run of identical hops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathLine {
    pub text: String,
    pub holder: Option<NodeIndex>,
}

/// The edge without its element index, so `[3]` and `[4]` compare equal.
fn hop_kind(a: &Analysis, e: u32, holder: NodeIndex) -> (String, u32) {
    let label = edge_label(&a.graph, e);
    let kind = if label.starts_with('[') && label[1..].starts_with(|c: char| c.is_ascii_digit()) {
        "[…]".to_string()
    } else {
        label
    };
    (kind, a.classes.class_of(&a.graph, holder))
}

/// Lines for `path`: the object, then each hop, then `(GC roots)`; runs of more than two
/// identical hops fold into `… N × hop …`.
pub fn render_path(
    a: &Analysis,
    locations: &Locations,
    positions: &super::positions::Positions,
    path: &RetainerPath,
) -> Vec<PathLine> {
    let g = &a.graph;
    let mut lines = vec![PathLine {
        text: format!(
            "{} @{}",
            node_label(g, &a.classes, path.target),
            g.node_id(path.target)
        ),
        holder: None,
    }];
    // The path ends at `(GC roots)`: the synthetic root, or V8's `(GC roots)` node under it.
    let steps: Vec<_> = path
        .steps
        .iter()
        .filter(|s| s.holder != HeapGraph::ROOT && g.node_name(s.holder) != "(GC roots)")
        .collect();
    let mut i = 0;
    while i < steps.len() {
        let kind = hop_kind(a, steps[i].edge, steps[i].holder);
        let mut run = 1;
        while i + run < steps.len()
            && hop_kind(a, steps[i + run].edge, steps[i + run].holder) == kind
        {
            run += 1;
        }
        if run > 2 {
            lines.push(PathLine {
                text: format!("… {run} × {} in {} …", kind.0, a.classes.name(kind.1)),
                holder: Some(steps[i + run - 1].holder),
            });
        } else {
            for s in &steps[i..i + run] {
                let at = locations
                    .of_node(g, s.holder)
                    .map(|l| format!("  ({})", positions.display_position(&l)))
                    .unwrap_or_default();
                lines.push(PathLine {
                    text: format!(
                        "{} in {} @{}{at}",
                        edge_label(g, s.edge),
                        node_label(g, &a.classes, s.holder),
                        g.node_id(s.holder)
                    ),
                    holder: Some(s.holder),
                });
            }
        }
        i += run;
    }
    lines.push(PathLine {
        text: "(GC roots)".into(),
        holder: None,
    });
    lines
}
