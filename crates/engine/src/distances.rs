//! Distance from the roots: how many references separate an object from the program.
//!
//! As in Chrome DevTools: a breadth-first search first from the user roots (the global
//! objects, distance 1), then from the synthetic root for what only the system holds
//! (those get [`SYSTEM_BASE`] + hops). Weak edges are not followed, nor three kinds of
//! edges V8 reports that would give misleadingly short distances: the native context's
//! `sloppy_function_map`, descriptor array links (shared between maps), and the first of
//! the two edges of a WeakMap entry (so a value sits one hop below the later of its key and
//! its table).
//!
//! The same search can record, per node, the edge it was first reached by, preferring among
//! equally short ones an edge a person reads easily (a property over an internal slot). The
//! chain of those edges is the node's shortest retainer path.

use std::collections::HashSet;

use crate::graph::{EdgeIndex, EdgeType, HeapGraph, NodeIndex, NodeType};
use crate::prefetch::prefetch;
use crate::roots::is_user_root;
use crate::weakmap::EphemeronNames;

/// Distances at or above this are for objects only system roots reach.
pub const SYSTEM_BASE: u32 = 100_000_000;
/// No path at all (garbage, or held only by weak references).
pub const NO_DISTANCE: u32 = u32::MAX;
const NO_EDGE: EdgeIndex = EdgeIndex::MAX;

pub struct Distances {
    /// Hops from the nearest root, per node (see the module docs for the scale).
    pub distance: Vec<u32>,
    /// Per node, the edge on its shortest path (when asked for); `None` otherwise.
    parent_edge: Option<Vec<EdgeIndex>>,
}

/// How readable an edge is in a retainer path, lower first.
pub(crate) fn readability(t: EdgeType) -> u8 {
    match t {
        EdgeType::Property | EdgeType::Element | EdgeType::Context => 0,
        EdgeType::Shortcut => 1,
        EdgeType::Internal => 2,
        _ => 3,
    }
}

impl Distances {
    /// Computes distances; with `with_paths`, also the shortest-path edge of every node.
    pub fn compute(g: &HeapGraph, weakmaps: &EphemeronNames, with_paths: bool) -> Distances {
        let n = g.node_count();
        let mut d = Distances {
            distance: vec![NO_DISTANCE; n],
            parent_edge: with_paths.then(|| vec![NO_EDGE; n]),
        };
        let mut queue: Vec<NodeIndex> = Vec::with_capacity(n);
        let mut filter = EdgeFilter::new(g, weakmaps);
        for e in g.edges_of(HeapGraph::ROOT) {
            let w = g.edge_target(e);
            if is_user_root(g, w) && d.distance[w as usize] == NO_DISTANCE {
                d.distance[w as usize] = 1;
                if let Some(p) = d.parent_edge.as_mut() {
                    p[w as usize] = e;
                }
                queue.push(w);
            }
        }
        let has_user_roots = !queue.is_empty();
        d.bfs(g, &mut queue, &mut filter);
        d.distance[HeapGraph::ROOT as usize] = if has_user_roots { SYSTEM_BASE } else { 0 };
        queue.clear();
        queue.push(HeapGraph::ROOT);
        d.bfs(g, &mut queue, &mut filter);
        d
    }

    fn bfs<'a>(
        &mut self,
        g: &'a HeapGraph,
        queue: &mut Vec<NodeIndex>,
        filter: &mut EdgeFilter<'a>,
    ) {
        let mut head = 0;
        while head < queue.len() {
            prefetch_queue(g, queue, head, &self.distance);
            let v = queue[head];
            head += 1;
            let next = self.distance[v as usize] + 1;
            for e in g.edges_of(v) {
                let t = g.edge_type(e);
                if t == EdgeType::Weak {
                    continue;
                }
                let w = g.edge_target(e);
                let dw = self.distance[w as usize];
                if dw != NO_DISTANCE {
                    // Already reached: at the same depth, keep the more readable edge.
                    if dw == next {
                        if let Some(p) = self.parent_edge.as_mut() {
                            let cur = p[w as usize];
                            if cur != NO_EDGE && readability(t) < readability(g.edge_type(cur)) {
                                p[w as usize] = e;
                            }
                        }
                    }
                    continue;
                }
                if !filter.accepts(g, v, e) {
                    continue;
                }
                self.distance[w as usize] = next;
                if let Some(p) = self.parent_edge.as_mut() {
                    p[w as usize] = e;
                }
                queue.push(w);
            }
        }
    }

    /// Distance of `n` as DevTools shows it: `None` for system-only and unreached nodes.
    pub fn user_distance(&self, n: NodeIndex) -> Option<u32> {
        let d = self.distance[n as usize];
        (d < SYSTEM_BASE).then_some(d)
    }

    /// The edge by which the search first reached `n` (needs `with_paths`).
    pub fn parent_edge(&self, n: NodeIndex) -> Option<EdgeIndex> {
        let e = *self.parent_edge.as_ref()?.get(n as usize)?;
        (e != NO_EDGE).then_some(e)
    }

    pub fn has_paths(&self) -> bool {
        self.parent_edge.is_some()
    }
}

/// Warms the cache for the nodes a few places ahead in a BFS queue: their edge ranges, then
/// their targets, then the targets' entries in `per_node`, each a step closer to use.
#[inline(always)]
pub(crate) fn prefetch_queue(g: &HeapGraph, queue: &[NodeIndex], head: usize, per_node: &[u32]) {
    if let Some(&far) = queue.get(head + 12) {
        prefetch(&g.first_edge, far as usize);
    }
    if let Some(&mid) = queue.get(head + 8) {
        prefetch(&g.edge_targets, g.first_edge[mid as usize] as usize);
    }
    if let Some(&near) = queue.get(head + 4) {
        for e in g.edges_of(near) {
            prefetch(per_node, g.edge_targets[e as usize] as usize);
        }
    }
}

/// The edges a distance search does not step through (module docs).
struct EdgeFilter<'a> {
    weakmaps: &'a EphemeronNames,
    /// WeakMap pairs whose first edge has been seen but not the second.
    pending_pairs: HashSet<&'a str>,
    sloppy_function_map: Option<u32>,
}

impl<'a> EdgeFilter<'a> {
    fn new(g: &'a HeapGraph, weakmaps: &'a EphemeronNames) -> EdgeFilter<'a> {
        EdgeFilter {
            weakmaps,
            pending_pairs: HashSet::new(),
            sloppy_function_map: g.strings().find("sloppy_function_map"),
        }
    }

    #[inline]
    fn accepts(&mut self, g: &'a HeapGraph, v: NodeIndex, e: EdgeIndex) -> bool {
        let t = g.edge_type(e);
        match g.node_type(v) {
            NodeType::Hidden
                if t != EdgeType::Element
                    && t != EdgeType::Hidden
                    && Some(g.edge_name_or_index(e)) == self.sloppy_function_map
                    && g.node_name(v) == "system / NativeContext" =>
            {
                return false
            }
            NodeType::Array if t.name_is_index() && g.node_name(v) == "(map descriptors)" => {
                let i = g.edge_name_or_index(e);
                return i < 2 || i % 3 != 1;
            }
            _ => {}
        }
        if t == EdgeType::Internal {
            if let Some(name) = self.weakmaps.of_edge(g, e) {
                // The first edge of a pair waits; the second lets the value through.
                if !self.pending_pairs.remove(name.pair) {
                    self.pending_pairs.insert(name.pair);
                    return false;
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::GraphBuilder;

    #[test]
    fn user_objects_count_from_the_global_and_system_ones_from_far_away() {
        let mut b = GraphBuilder::new();
        let gc_roots = b.node(NodeType::Synthetic, "(GC roots)", 0);
        let global = b.node(NodeType::Object, "global", 10);
        let a = b.node(NodeType::Object, "A", 10);
        let c = b.node(NodeType::Object, "C", 10);
        let internal = b.node(NodeType::Hidden, "system / Foo", 10);
        let weakly = b.node(NodeType::Object, "W", 10);
        b.edge(b.root(), EdgeType::Element, "1", gc_roots);
        b.edge(b.root(), EdgeType::Shortcut, "global", global);
        b.edge(global, EdgeType::Property, "a", a);
        b.edge(a, EdgeType::Property, "c", c);
        b.edge(gc_roots, EdgeType::Element, "1", internal);
        b.edge(a, EdgeType::Weak, "1", weakly);
        let g = b.build();
        let d = Distances::compute(&g, &EphemeronNames::new(&g), true);
        assert_eq!(d.user_distance(global), Some(1));
        assert_eq!(d.user_distance(c), Some(3));
        assert_eq!(d.user_distance(internal), None);
        assert_eq!(d.distance[internal as usize], SYSTEM_BASE + 2);
        assert_eq!(
            d.distance[weakly as usize], NO_DISTANCE,
            "weak edges are not followed"
        );
        let e = d.parent_edge(c).unwrap();
        assert_eq!(g.edge_target(e), c);
    }

    #[test]
    fn weakmap_value_sits_below_the_later_of_key_and_table() {
        let mut b = GraphBuilder::new();
        let global = b.node(NodeType::Object, "global", 10);
        let table = b.node_with_id(NodeType::Array, "table", 40, 901);
        let mid = b.node(NodeType::Object, "Mid", 1);
        let key = b.node_with_id(NodeType::Object, "Key", 16, 903);
        let value = b.node_with_id(NodeType::Object, "Value", 1000, 905);
        let pair = "part of key (Key @903) -> value (Value @905) pair in WeakMap (table @901)";
        b.edge(b.root(), EdgeType::Shortcut, "global", global);
        b.edge(global, EdgeType::Property, "t", table); // table at 2
        b.edge(global, EdgeType::Property, "m", mid);
        b.edge(mid, EdgeType::Property, "k", key); // key at 3
        b.edge(table, EdgeType::Internal, &format!("2 / {pair}"), value);
        b.edge(key, EdgeType::Internal, &format!("7 / {pair}"), value);
        let g = b.build();
        let d = Distances::compute(&g, &EphemeronNames::new(&g), false);
        assert_eq!(d.user_distance(table), Some(2));
        assert_eq!(d.user_distance(key), Some(3));
        assert_eq!(
            d.user_distance(value),
            Some(4),
            "one below the key, not the table"
        );
    }
}
