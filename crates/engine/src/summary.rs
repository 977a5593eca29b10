//! The Summary view: per class, how many objects, their own size, what they keep alive and
//! how close the closest one is to a root.

use serde::Serialize;

use crate::classes::{ClassId, Classes};
use crate::distances::Distances;
use crate::dominators::DominatorTree;
use crate::graph::{HeapGraph, NodeIndex};

#[derive(Debug, Clone, Serialize)]
pub struct ClassRow {
    pub class: String,
    pub count: u64,
    pub shallow_size: u64,
    /// Bytes freed if every instance went away: the retained sizes of the instances that no
    /// other instance of the class dominates (nested ones are inside those already).
    pub retained_size: u64,
    /// Fewest references from a user root to any instance (`None`: only system roots or
    /// nothing reach the class).
    pub min_distance: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub nodes: u64,
    pub edges: u64,
    /// Sum of all self sizes plus V8's unattributed native bytes: DevTools' total.
    pub total_size: u64,
    /// What the program's objects hold: bytes reachable through essential edges.
    pub reachable_size: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub totals: Totals,
    /// Every class with at least one non-empty object, largest retained size first.
    pub classes: Vec<ClassRow>,
}

impl Totals {
    /// The graph's size, DevTools' total, and what the roots reach.
    pub fn of(g: &HeapGraph, dom: &DominatorTree) -> Totals {
        let reachable_size = (0..g.node_count() as NodeIndex)
            .filter(|&n| dom.is_reachable(n))
            .map(|n| g.self_size(n))
            .sum();
        Totals {
            nodes: g.node_count() as u64,
            edges: g.edge_count() as u64,
            total_size: g.total_self_size() + g.extra_native_bytes(),
            reachable_size,
        }
    }
}

/// Sort orders for [`Summary::sort_by`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Retained,
    Shallow,
    Count,
}

impl Summary {
    pub fn sort_by(&mut self, key: SortKey) {
        self.classes.sort_by(|a, b| {
            let k = |r: &ClassRow| match key {
                SortKey::Retained => (r.retained_size, r.shallow_size),
                SortKey::Shallow => (r.shallow_size, r.retained_size),
                SortKey::Count => (r.count, r.retained_size),
            };
            k(b).cmp(&k(a)).then_with(|| a.class.cmp(&b.class))
        });
    }
}

/// Builds the summary. Objects of size 0 (after folding) are not counted, as in DevTools.
pub fn summarize(
    g: &HeapGraph,
    classes: &Classes,
    dom: &DominatorTree,
    distances: &Distances,
    retained: &[u64],
) -> Summary {
    let k = classes.len();
    let mut count = vec![0u64; k];
    let mut shallow = vec![0u64; k];
    let mut min_distance = vec![u32::MAX; k];
    for n in 0..g.node_count() as NodeIndex {
        let size = g.self_size(n);
        if size == 0 {
            continue;
        }
        let c = classes.class_of(g, n) as usize;
        count[c] += 1;
        shallow[c] += size;
        if let Some(d) = distances.user_distance(n) {
            min_distance[c] = min_distance[c].min(d);
        }
    }
    let rows = (0..k)
        .filter(|&c| count[c] > 0)
        .map(|c| ClassRow {
            class: classes.name(c as ClassId).to_string(),
            count: count[c],
            shallow_size: shallow[c],
            retained_size: retained[c],
            min_distance: (min_distance[c] != u32::MAX).then_some(min_distance[c]),
        })
        .collect();
    let mut s = Summary {
        totals: Totals::of(g, dom),
        classes: rows,
    };
    s.sort_by(SortKey::Retained);
    s
}

/// Per class, the sum of retained sizes over instances with no same-class instance above
/// them in the dominator tree: a depth-first walk that keeps, per class, how many counted
/// instances are open on the current path.
pub fn outermost_retained(g: &HeapGraph, classes: &Classes, dom: &DominatorTree) -> Vec<u64> {
    let children = dom.children();
    let mut retained = vec![0u64; classes.len()];
    let mut open = vec![0u32; classes.len()];
    // (node, next child position, class counted at this node or u32::MAX)
    let mut stack: Vec<(NodeIndex, u32, u32)> = vec![(HeapGraph::ROOT, 0, u32::MAX)];
    while let Some(top) = stack.last_mut() {
        let (v, pos, counted) = *top;
        let kids = children.of(v);
        if pos as usize == kids.len() {
            if counted != u32::MAX {
                open[counted as usize] -= 1;
            }
            stack.pop();
            continue;
        }
        top.1 += 1;
        let w = kids[pos as usize];
        let mut mark = u32::MAX;
        if g.self_size(w) > 0 {
            let c = classes.class_of(g, w);
            if open[c as usize] == 0 {
                retained[c as usize] += dom.retained[w as usize];
                open[c as usize] += 1;
                mark = c;
            }
        }
        stack.push((w, 0, mark));
    }
    retained
}

#[cfg(test)]
mod tests {
    use crate::builder::GraphBuilder;
    use crate::graph::{EdgeType, NodeType};
    use crate::{Analysis, AnalysisOptions};

    #[test]
    fn nested_instances_of_a_class_count_once_in_its_retained_size() {
        // global → Node(a) → Node(b) → Leaf; global → Node(c). Node's retained size is a's
        // (which includes b) plus c's, not a + b + c.
        let mut b = GraphBuilder::new();
        let global = b.node(NodeType::Object, "global", 10);
        let na = b.node(NodeType::Object, "Node", 10);
        let nb = b.node(NodeType::Object, "Node", 10);
        let leaf = b.node(NodeType::Object, "Leaf", 100);
        let nc = b.node(NodeType::Object, "Node", 10);
        let empty = b.node(NodeType::Object, "Node", 0);
        b.edge(b.root(), EdgeType::Shortcut, "global", global);
        b.edge(global, EdgeType::Property, "a", na);
        b.edge(na, EdgeType::Property, "next", nb);
        b.edge(nb, EdgeType::Property, "leaf", leaf);
        b.edge(global, EdgeType::Property, "c", nc);
        b.edge(global, EdgeType::Property, "e", empty);
        let a = Analysis::new(b.build(), &AnalysisOptions::default());
        let s = a.summary();
        let node = s.classes.iter().find(|c| c.class == "Node").unwrap();
        assert_eq!(node.count, 3, "objects of size 0 are not counted");
        assert_eq!(node.shallow_size, 30);
        assert_eq!(node.retained_size, 120 + 10);
        assert_eq!(node.min_distance, Some(2));
        assert_eq!(s.totals.total_size, 140);
    }
}
