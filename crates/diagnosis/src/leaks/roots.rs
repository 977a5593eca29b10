//! Leak roots: the new objects at the top of what grew.
//!
//! An object allocated after the first snapshot and still alive in the last one is a
//! candidate. Most candidates are parts of a bigger new structure (a listener closure, its
//! context, the session it captured, that session's buffer): what matters is the top of each
//! structure in the dominator tree, the new object that an *old* one holds. Its retained size
//! covers the rest. Internal storage (a Map's hash table, reallocated as the map grows) is
//! transparent: entries under a new table of an old Map are roots themselves.

use leakhunt_engine::fold::is_storage;
use leakhunt_engine::graph::{HeapGraph, NodeIndex};
use leakhunt_engine::Analysis;

use super::facts::{Facts, ProgramObjects};

const NONE: u32 = u32::MAX;

/// The leak roots of `last`: program objects whose ids `first` lacks and whose dominator is
/// old (or old storage's). `order` lists nodes with every dominator before its children.
pub fn leak_roots(last: &Analysis, order: &[NodeIndex], first: &Facts) -> Vec<NodeIndex> {
    let g = &last.graph;
    // top[n]: the leak root whose structure n belongs to, or NONE.
    let mut top = vec![NONE; g.node_count()];
    let mut roots = Vec::new();
    let program = ProgramObjects::new(last);
    for &n in order {
        let d = last.dominators.idom[n as usize];
        let inherited = if d == HeapGraph::ROOT {
            NONE
        } else {
            top[d as usize]
        };
        top[n as usize] = if inherited != NONE {
            inherited
        } else if program.contains(n)
            && last.dominators.is_reachable(n)
            && !first.has_id(g.node_id(n))
            && !is_storage(g, n)
        {
            roots.push(n);
            n
        } else {
            NONE
        };
    }
    roots
}
