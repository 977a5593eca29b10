//! Chain links: whether an object nested under another of its own group (class and anchor)
//! is the next link of a linked list (`next` under `next`), which counts on its own, or a
//! part of its holder (a session's `prefs` object, a `once()` wrapper's `listener`), which
//! counts as one with it.
//!
//! A string appended to (`log += line`) is such a chain: V8 makes each append a concatenated
//! string whose `first` is the string before it and whose `second` is the piece appended.
//! The links of that spine count the appends; the pieces are parts, however they were built
//! (a template literal is itself a chain of concatenations, hanging off a `second`).

use std::cell::Cell;

use leakhunt_engine::bitset::BitSet;

use crate::hash::FastMap;
use leakhunt_engine::graph::{EdgeIndex, HeapGraph, NodeIndex};

/// Answers [`ChainLinks::is_link`] for the nested objects of one snapshot.
///
/// Each answer compares the edge from an object's immediate dominator to it with the edge
/// from that dominator's own dominator. Looking those up per object would scan the holder's
/// whole edge list for every member of a collection of its own class (an array of arrays,
/// an object of objects): quadratic. So they are found up front, in one pass over the edge
/// lists of the dominators involved, each read once.
pub struct ChainLinks<'a> {
    g: &'a HeapGraph,
    idom: &'a [NodeIndex],
    /// For each nested object and its immediate dominator: the first edge from that node's
    /// immediate dominator to it (absent when there is none).
    from_dominator: FastMap<NodeIndex, EdgeIndex>,
    /// Edges read (tests check the work stays linear in the graph's size).
    edges_read: Cell<u64>,
    /// Strings known to be on a spine (`on_spine`) or not (`off_spine`).
    on_spine: BitSet,
    off_spine: BitSet,
}

impl<'a> ChainLinks<'a> {
    /// Prepares the answers for `nested`: objects whose immediate dominator is of their own
    /// group.
    pub fn new(g: &'a HeapGraph, idom: &'a [NodeIndex], nested: &[NodeIndex]) -> ChainLinks<'a> {
        // The nodes whose edge from their dominator is needed, and those dominators.
        let mut wanted = BitSet::new(g.node_count());
        let mut sources = BitSet::new(g.node_count());
        for &n in nested {
            let d = idom[n as usize];
            wanted.set(n);
            wanted.set(d);
            sources.set(d);
            sources.set(idom[d as usize]);
        }
        let mut from_dominator =
            FastMap::with_capacity_and_hasher(2 * nested.len(), Default::default());
        let mut edges_read = 0u64;
        for v in sources.ones() {
            for e in g.edges_of(v) {
                edges_read += 1;
                let w = g.edge_target(e);
                if idom[w as usize] == v && wanted.get(w) {
                    // The first such edge, as a search through `v`'s edges would find.
                    from_dominator.entry(w).or_insert(e);
                }
            }
        }
        ChainLinks {
            g,
            idom,
            from_dominator,
            edges_read: Cell::new(edges_read),
            on_spine: BitSet::new(g.node_count()),
            off_spine: BitSet::new(g.node_count()),
        }
    }

    /// Whether the nested string `n` is a link of an appended string's spine: reached through
    /// `first` references only from the top of its group (`is_top`: the string that is not
    /// nested). Answers are remembered along the way, so a chain of any length is walked once.
    pub fn is_string_link(&mut self, n: NodeIndex, is_top: impl Fn(NodeIndex) -> bool) -> bool {
        let g = self.g;
        let via_first = |x: NodeIndex, links: &ChainLinks| {
            links
                .edge_from_dominator(x)
                .is_some_and(|e| g.edge_name(e) == Some("first"))
        };
        // Up the dominators to a string whose answer is known or the top.
        let mut pending = Vec::new();
        let mut x = n;
        let mut known = loop {
            if self.on_spine.get(x) {
                break true;
            }
            if self.off_spine.get(x) {
                break false;
            }
            if is_top(x) {
                break true;
            }
            pending.push(x);
            x = self.idom[x as usize];
        };
        // Back down: a link is on the spine when its holder is and it is the holder's `first`.
        while let Some(y) = pending.pop() {
            known = known && via_first(y, self);
            if known {
                self.on_spine.set(y);
            } else {
                self.off_spine.set(y);
            }
        }
        known
    }

    /// The first edge from `x`'s immediate dominator to `x` (`x` nested, or the dominator of
    /// a nested object).
    fn edge_from_dominator(&self, x: NodeIndex) -> Option<EdgeIndex> {
        self.from_dominator.get(&x).copied()
    }

    /// Whether `n` (one of the nested objects) is the next link of a chain rather than a part
    /// of its immediate dominator `d`: held as `d` is held, or holding the next one of its
    /// name the same way (the second link of a chain).
    pub fn is_link(&self, n: NodeIndex) -> bool {
        let g = self.g;
        let kind = |e: EdgeIndex| (g.edge_type(e), g.edge_name_or_index(e));
        let Some(link) = self.edge_from_dominator(n).map(kind) else {
            return false;
        };
        let d = self.idom[n as usize];
        self.edge_from_dominator(d).map(kind) == Some(link)
            || g.edges_of(n).any(|e| {
                self.edges_read.set(self.edges_read.get() + 1);
                kind(e) == link && g.node_name(g.edge_target(e)) == g.node_name(n)
            })
    }

    #[cfg(test)]
    fn edges_read(&self) -> u64 {
        self.edges_read.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhunt_engine::{Analysis, AnalysisOptions, EdgeType, GraphBuilder, NodeType};

    /// A global holding `holder`, which holds `count` objects of its own class under
    /// `edge_type` edges; returns the analysis and those objects.
    fn collection_of_its_own_class(
        edge_type: EdgeType,
        count: usize,
    ) -> (Analysis, Vec<NodeIndex>) {
        let mut b = GraphBuilder::new();
        let global = b.node(NodeType::Object, "global", 10);
        b.edge(b.root(), EdgeType::Shortcut, "global", global);
        let holder = b.node(NodeType::Object, "Array", 32);
        b.edge(global, EdgeType::Property, "rows", holder);
        let members: Vec<NodeIndex> = (0..count)
            .map(|i| {
                let m = b.node(NodeType::Object, "Array", 32);
                let name = match edge_type {
                    EdgeType::Element => i.to_string(),
                    _ => format!("k{i}"),
                };
                b.edge(holder, edge_type, &name, m);
                m
            })
            .collect();
        (
            Analysis::new(b.build(), &AnalysisOptions::default()),
            members,
        )
    }

    #[test]
    fn members_of_a_collection_of_their_own_class_are_parts_not_links() {
        for edge_type in [EdgeType::Element, EdgeType::Property] {
            let (a, members) = collection_of_its_own_class(edge_type, 50);
            let links = ChainLinks::new(&a.graph, &a.dominators.idom, &members);
            assert!(members.iter().all(|&m| !links.is_link(m)), "{edge_type:?}");
        }
    }

    #[test]
    fn a_collection_of_its_own_class_is_checked_in_one_pass_over_its_edges() {
        // Each member's check once scanned the holder's whole edge list: 20,000 members made
        // 200 million reads (an array of arrays, an object of objects).
        for edge_type in [EdgeType::Element, EdgeType::Property] {
            let (a, members) = collection_of_its_own_class(edge_type, 20_000);
            let links = ChainLinks::new(&a.graph, &a.dominators.idom, &members);
            for &m in &members {
                links.is_link(m);
            }
            let edges = a.graph.edge_count() as u64;
            assert!(
                links.edges_read() <= 2 * edges,
                "{edge_type:?}: {} edge reads for a graph of {edges} edges",
                links.edges_read()
            );
        }
    }
}
