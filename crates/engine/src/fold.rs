//! Folding internal storage into its owner, as Chrome DevTools does before it sums anything.
//!
//! V8 reports an object's out-of-line storage as separate nodes: an `Array`'s elements, a
//! `Map`'s hash table, an object's property backing store (`hidden` and `array` nodes, and the
//! native `system / ExternalStringData`). DevTools moves the size of such a node into the one
//! object that owns it, so an `Array` row shows what the array really costs and `(array)`
//! keeps only storage shared by several owners. Users compare our numbers with DevTools', so
//! we fold by the same rule:
//!
//! - the owners of a storage node are the non-storage nodes that reach it through chains of
//!   storage nodes (weak edges do not count);
//! - with exactly one owner, which is neither the root nor synthetic, the node's size moves
//!   into that owner;
//! - nothing is folded in a snapshot without user roots (DevTools reads those as captures of
//!   internals).

use crate::graph::{EdgeType, HeapGraph, NodeIndex, NodeType};

const NO_OWNER: u32 = u32::MAX;
const MANY_OWNERS: u32 = u32::MAX - 1;

/// Storage DevTools folds into an owner: hidden and array nodes, and external string data.
pub fn is_storage(g: &HeapGraph, n: NodeIndex) -> bool {
    match g.node_type(n) {
        NodeType::Hidden | NodeType::Array => true,
        NodeType::Native => g.node_name(n) == "system / ExternalStringData",
        _ => false,
    }
}

/// Per node: its single owner, `NO_OWNER` or `MANY_OWNERS` for storage nodes, and
/// itself for every other node. Read-only, so it can run beside other analyses.
pub fn storage_owners(g: &HeapGraph, has_user_roots: bool) -> Vec<u32> {
    if !has_user_roots {
        return Vec::new();
    }
    let n = g.node_count();
    let mut storage = crate::bitset::BitSet::new(n);
    for v in 0..n as NodeIndex {
        if is_storage(g, v) {
            storage.set(v);
        }
    }
    let mut owner = vec![NO_OWNER; n];
    let mut stack: Vec<(NodeIndex, u32)> = Vec::new();
    for v in 0..n as NodeIndex {
        if storage.get(v) {
            continue;
        }
        owner[v as usize] = v;
        stack.push((v, v));
        while let Some((src, own)) = stack.pop() {
            for e in g.edges_of(src) {
                let w = g.edge_target(e);
                if !storage.get(w) || g.edge_type(e) == EdgeType::Weak {
                    continue;
                }
                let cur = owner[w as usize];
                let next = if cur == NO_OWNER {
                    own
                } else if cur == own || cur == MANY_OWNERS {
                    continue;
                } else {
                    MANY_OWNERS
                };
                owner[w as usize] = next;
                stack.push((w, next));
            }
        }
    }
    owner
}

/// Moves each storage node's size into its single owner (from [`storage_owners`]), in place,
/// unless that owner is the root or synthetic. Returns how many nodes folded.
pub fn fold_into_owners(g: &mut HeapGraph, owners: &[u32]) -> usize {
    let mut folded = 0;
    for (v, &own) in owners.iter().enumerate() {
        let v = v as NodeIndex;
        if own == v || own == NO_OWNER || own == MANY_OWNERS || own == HeapGraph::ROOT {
            continue;
        }
        if g.node_type(own) == NodeType::Synthetic {
            continue;
        }
        g.fold_self_size(v, own);
        folded += 1;
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::GraphBuilder;
    use crate::graph::EdgeType;

    #[test]
    fn storage_with_one_owner_folds_and_shared_storage_does_not() {
        let mut b = GraphBuilder::new();
        let global = b.node(NodeType::Object, "global", 10);
        let list = b.node(NodeType::Object, "Array", 32);
        let elements = b.node(NodeType::Array, "(object elements)", 800);
        let a = b.node(NodeType::Object, "A", 16);
        let c = b.node(NodeType::Object, "C", 16);
        let shared = b.node(NodeType::Hidden, "system / PropertyArray", 64);
        b.edge(b.root(), EdgeType::Shortcut, "global", global);
        b.edge(global, EdgeType::Property, "list", list);
        b.edge(list, EdgeType::Internal, "elements", elements);
        b.edge(global, EdgeType::Property, "a", a);
        b.edge(global, EdgeType::Property, "c", c);
        b.edge(a, EdgeType::Internal, "properties", shared);
        b.edge(c, EdgeType::Internal, "properties", shared);
        let mut g = b.build();
        let owners = storage_owners(&g, true);
        assert_eq!(fold_into_owners(&mut g, &owners), 1);
        assert_eq!(
            g.self_size(list),
            832,
            "the array now includes its elements"
        );
        assert_eq!(g.self_size(elements), 0);
        assert_eq!(g.self_size(shared), 64, "two owners: stays where it is");
        assert_eq!(g.total_self_size(), 10 + 832 + 16 + 16 + 64);
    }

    #[test]
    fn weak_references_and_root_ownership_do_not_fold() {
        let mut b = GraphBuilder::new();
        let global = b.node(NodeType::Object, "global", 10);
        let held_by_root = b.node(NodeType::Array, "(roots)", 100);
        let weak_only = b.node(NodeType::Array, "(weak)", 100);
        b.edge(b.root(), EdgeType::Shortcut, "global", global);
        b.edge(b.root(), EdgeType::Element, "1", held_by_root);
        b.edge(global, EdgeType::Weak, "1", weak_only);
        let mut g = b.build();
        let owners = storage_owners(&g, true);
        assert_eq!(fold_into_owners(&mut g, &owners), 0);
        assert_eq!(g.self_size(held_by_root), 100);
        assert_eq!(g.self_size(weak_only), 100);
    }

    #[test]
    fn nothing_folds_without_user_roots() {
        let mut b = GraphBuilder::new();
        let o = b.node(NodeType::Object, "O", 10);
        let arr = b.node(NodeType::Array, "", 100);
        b.edge(b.root(), EdgeType::Element, "1", o);
        b.edge(o, EdgeType::Internal, "elements", arr);
        let g = b.build();
        assert!(storage_owners(&g, false).is_empty());
    }
}
