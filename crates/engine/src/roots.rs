//! Which objects belong to the program and which edges hold things alive.
//!
//! The snapshot's synthetic root points at `(GC roots)` and its sub-roots (handles, stack,
//! compilation cache …) and, through `shortcut` edges, at the program's global objects:
//! those are the *user roots*. Everything reachable from a user root is a *page object*.
//! An edge is *essential* — counts for retention — unless it is weak, a self loop, a
//! WeakMap table's edge to a value (the key's edge is kept), a shortcut not leaving the
//! root, or leads from a system-only object into a page object (so that an object the
//! program reaches is not credited to, say, the debugger's handles). These are Chrome
//! DevTools' rules, kept so that retained sizes match what users see there.

use crate::bitset::BitSet;
use crate::graph::{EdgeType, HeapGraph, NodeIndex, NodeType};
use crate::weakmap::EphemeronNames;

/// A child of the root that belongs to the program: not synthetic, or the DOM trees root.
pub fn is_user_root(g: &HeapGraph, n: NodeIndex) -> bool {
    g.node_type(n) != NodeType::Synthetic || g.node_name(n) == "(Document DOM trees)"
}

/// The root's children that are user roots, in edge order.
pub fn user_roots(g: &HeapGraph) -> Vec<NodeIndex> {
    g.edges_of(HeapGraph::ROOT)
        .map(|e| g.edge_target(e))
        .filter(|&n| is_user_root(g, n))
        .collect()
}

/// Nodes reachable through non-weak edges from the root's shortcut targets (and the DOM
/// trees root, in browsers).
pub fn page_objects(g: &HeapGraph) -> BitSet {
    let mut page = BitSet::new(g.node_count());
    let mut stack = Vec::new();
    for e in g.edges_of(HeapGraph::ROOT) {
        let w = g.edge_target(e);
        let entry = match g.edge_type(e) {
            EdgeType::Shortcut => true,
            EdgeType::Element => {
                g.node_type(w) == NodeType::Synthetic && g.node_name(w) == "(Document DOM trees)"
            }
            _ => false,
        };
        if entry && !page.test_and_set(w) {
            stack.push(w);
        }
    }
    while let Some(v) = stack.pop() {
        for e in g.edges_of(v) {
            let w = g.edge_target(e);
            if g.edge_type(e) != EdgeType::Weak && !page.test_and_set(w) {
                stack.push(w);
            }
        }
    }
    page
}

/// One bit per edge: set when the edge counts for retention (see the module docs).
pub fn essential_edges(g: &HeapGraph, weakmaps: &EphemeronNames, page: &BitSet) -> BitSet {
    let mut essential = BitSet::new(g.edge_count());
    for v in 0..g.node_count() as NodeIndex {
        let from_root = v == HeapGraph::ROOT;
        let v_page = page.get(v);
        for e in g.edges_of(v) {
            let w = g.edge_target(e);
            let t = g.edge_type(e);
            if t == EdgeType::Weak || w == v {
                continue;
            }
            if t == EdgeType::Internal {
                if let Some(name) = weakmaps.of_edge(g, e) {
                    if name.table_id == g.node_id(v) {
                        continue;
                    }
                }
            }
            if !from_root && (t == EdgeType::Shortcut || (page.get(w) && !v_page)) {
                continue;
            }
            essential.set(e);
        }
    }
    essential
}
