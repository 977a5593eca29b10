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
use crate::graph::{EdgeIndex, EdgeType, HeapGraph, NodeIndex, NodeType};
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
    // Each edge's bit depends on that edge alone, so the two halves of the edges (split at a
    // word boundary) are filled side by side; this runs while nothing else does.
    let words = essential.words_mut();
    let half = words.len() / 2;
    let split = (half * 64).min(g.edge_count()) as EdgeIndex;
    let (low, high) = words.split_at_mut(half);
    std::thread::scope(|s| {
        s.spawn(|| mark_essential(g, weakmaps, page, 0..split, low));
        mark_essential(g, weakmaps, page, split..g.edge_count() as EdgeIndex, high);
    });
    essential
}

/// Sets the bits of the essential edges in `edges`, whose first edge is bit 0 of `words`.
fn mark_essential(
    g: &HeapGraph,
    weakmaps: &EphemeronNames,
    page: &BitSet,
    edges: std::ops::Range<EdgeIndex>,
    words: &mut [u64],
) {
    if edges.is_empty() {
        return;
    }
    // The node whose edges include the first one.
    let first = g.first_edge.partition_point(|&f| f <= edges.start) - 1;
    for v in first as NodeIndex..g.node_count() as NodeIndex {
        let own = g.edges_of(v);
        if own.start >= edges.end {
            break;
        }
        let from_root = v == HeapGraph::ROOT;
        let v_page = page.get(v);
        for e in own.start.max(edges.start)..own.end.min(edges.end) {
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
            let bit = e - edges.start;
            words[(bit >> 6) as usize] |= 1 << (bit & 63);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::GraphBuilder;
    use crate::dominators;

    fn dominator_tree(g: &HeapGraph) -> dominators::DominatorTree {
        let essential = essential_edges(g, &EphemeronNames::new(g), &page_objects(g));
        dominators::compute(g, HeapGraph::ROOT, move |_, e, _| essential.get(e))
    }

    #[test]
    fn essential_bits_are_the_same_on_both_sides_of_the_parallel_split() {
        // 300 edges from one node, so the split (edge 128) falls inside its range.
        let mut b = GraphBuilder::new();
        let hub = b.node(NodeType::Object, "Hub", 10);
        b.edge(b.root(), EdgeType::Shortcut, "hub", hub);
        for i in 0..300 {
            let leaf = b.node(NodeType::Object, "Leaf", 10);
            let t = if i % 3 == 0 {
                EdgeType::Weak
            } else {
                EdgeType::Property
            };
            b.edge(hub, t, &format!("p{i}"), leaf);
        }
        let g = b.build();
        let essential = essential_edges(&g, &EphemeronNames::new(&g), &page_objects(&g));
        for e in 0..g.edge_count() as EdgeIndex {
            assert_eq!(
                essential.get(e),
                g.edge_type(e) != EdgeType::Weak,
                "edge {e}"
            );
        }
    }

    #[test]
    fn weakmap_value_is_retained_by_its_key_not_the_table() {
        let mut b = GraphBuilder::new();
        let global = b.node(NodeType::Object, "global", 10);
        let map = b.node(NodeType::Object, "WeakMap", 20);
        let table = b.node_with_id(NodeType::Array, "system / EphemeronHashTable", 40, 901);
        let key = b.node_with_id(NodeType::Object, "Key", 16, 903);
        let value = b.node_with_id(NodeType::Object, "Value", 1000, 905);
        let pair = "part of key (Key @903) -> value (Value @905) pair in WeakMap (table @901)";
        b.edge(b.root(), EdgeType::Shortcut, "global", global);
        b.edge(global, EdgeType::Property, "cache", map);
        b.edge(global, EdgeType::Property, "user", key);
        b.edge(map, EdgeType::Internal, "table", table);
        b.edge(table, EdgeType::Weak, "1", key);
        b.edge(table, EdgeType::Internal, &format!("2 / {pair}"), value);
        b.edge(key, EdgeType::Internal, &format!("7 / {pair}"), value);
        let g = b.build();
        let t = dominator_tree(&g);
        assert_eq!(t.idom[value as usize], key);
        assert_eq!(t.retained[key as usize], 1016);
        assert_eq!(t.retained[table as usize], 40);
    }

    #[test]
    fn an_ordinary_internal_edge_from_a_table_still_retains() {
        // Quiet case: the same shape without an ephemeron name is a normal reference.
        let mut b = GraphBuilder::new();
        let global = b.node(NodeType::Object, "global", 10);
        let table = b.node(NodeType::Array, "system / FixedArray", 40);
        let value = b.node(NodeType::Object, "Value", 1000);
        b.edge(b.root(), EdgeType::Shortcut, "global", global);
        b.edge(global, EdgeType::Property, "t", table);
        b.edge(table, EdgeType::Internal, "2", value);
        let g = b.build();
        let t = dominator_tree(&g);
        assert_eq!(t.idom[value as usize], table);
    }

    #[test]
    fn system_roots_do_not_dominate_program_objects() {
        // A handle scope (system) and the global both reach `obj`: it is credited to the
        // global's side, not to the root that merges both.
        let mut b = GraphBuilder::new();
        let gc_roots = b.node(NodeType::Synthetic, "(GC roots)", 0);
        let handles = b.node(NodeType::Synthetic, "(Handle scope)", 0);
        let global = b.node(NodeType::Object, "global", 10);
        let holder = b.node(NodeType::Object, "Holder", 10);
        let obj = b.node(NodeType::Object, "Obj", 500);
        b.edge(b.root(), EdgeType::Element, "1", gc_roots);
        b.edge(b.root(), EdgeType::Shortcut, "global", global);
        b.edge(gc_roots, EdgeType::Element, "1", handles);
        b.edge(handles, EdgeType::Element, "1", obj);
        b.edge(global, EdgeType::Property, "holder", holder);
        b.edge(holder, EdgeType::Property, "obj", obj);
        let g = b.build();
        let page = page_objects(&g);
        assert!(page.get(obj) && page.get(holder) && !page.get(handles));
        let t = dominator_tree(&g);
        assert_eq!(t.idom[obj as usize], holder);
        assert_eq!(t.retained[holder as usize], 510);
    }

    #[test]
    fn user_roots_are_the_non_synthetic_children_of_the_root() {
        let mut b = GraphBuilder::new();
        let gc_roots = b.node(NodeType::Synthetic, "(GC roots)", 0);
        let global = b.node(NodeType::Object, "global", 10);
        b.edge(b.root(), EdgeType::Element, "1", gc_roots);
        b.edge(b.root(), EdgeType::Shortcut, "global", global);
        assert_eq!(user_roots(&b.build()), vec![global]);
    }
}
