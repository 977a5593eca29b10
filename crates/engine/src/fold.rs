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

fn is_storage(g: &HeapGraph, n: NodeIndex) -> bool {
    match g.node_type(n) {
        NodeType::Hidden | NodeType::Array => true,
        NodeType::Native => g.node_name(n) == "system / ExternalStringData",
        _ => false,
    }
}

/// Per node: its single owner, [`NO_OWNER`] or [`MANY_OWNERS`] for storage nodes, and
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
