//! Retainer paths: the chains of references from the GC roots that keep an object alive.
//!
//! The distance search ([`crate::distances`]) remembers, per node, the edge it first reached
//! it by (the most readable among equally short ones), so a node's shortest path is read off
//! by following those edges back to the root. Distinct paths for one object start from its
//! distinct direct holders, shortest first.

use crate::analysis::Analysis;
use crate::distances::{readability, NO_DISTANCE};
use crate::graph::{EdgeIndex, EdgeType, HeapGraph, NodeIndex};

/// One reference in a path: `holder` refers to the previous object through `edge`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub edge: EdgeIndex,
    pub holder: NodeIndex,
}

/// A path from `target` up to the root, target first. The last step's holder is the
/// snapshot's synthetic root (shown as `(GC roots)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetainerPath {
    pub target: NodeIndex,
    pub steps: Vec<Step>,
}

impl RetainerPath {
    /// Number of references between the root and the target.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// The node whose edge list contains edge `e`.
pub fn edge_source(g: &HeapGraph, e: EdgeIndex) -> NodeIndex {
    (g.first_edge.partition_point(|&f| f <= e) - 1) as NodeIndex
}

impl Analysis {
    /// The shortest path from the root to `n` along recorded first edges (needs
    /// `retainer_paths` in [`crate::AnalysisOptions`]); `None` when nothing reaches `n`.
    pub fn shortest_path(&self, n: NodeIndex) -> Option<RetainerPath> {
        let mut steps = Vec::new();
        let mut cur = n;
        while cur != HeapGraph::ROOT {
            let e = self.distances.parent_edge(cur)?;
            let holder = edge_source(&self.graph, e);
            steps.push(Step { edge: e, holder });
            cur = holder;
            if steps.len() > self.graph.node_count() {
                return None; // cannot happen with a consistent search; never loop forever
            }
        }
        Some(RetainerPath { target: n, steps })
    }

    /// Up to `k` paths to `n` through distinct direct holders, shortest and most readable
    /// first, none of them passing through another's direct holder. Weak references are not
    /// paths: they do not keep anything alive.
    pub fn retainer_paths(&self, n: NodeIndex, k: usize) -> Vec<RetainerPath> {
        let g = &self.graph;
        let dist = &self.distances.distance;
        // Direct holders: one scan over all edges (the graph keeps no reverse index).
        let mut holders: Vec<(u32, u8, NodeIndex, EdgeIndex)> = Vec::new();
        for v in 0..g.node_count() as NodeIndex {
            for e in g.edges_of(v) {
                if g.edge_target(e) != n || g.edge_type(e) == EdgeType::Weak || v == n {
                    continue;
                }
                if dist[v as usize] == NO_DISTANCE && v != HeapGraph::ROOT {
                    continue;
                }
                let d = if v == HeapGraph::ROOT {
                    0
                } else {
                    dist[v as usize]
                };
                holders.push((d, readability(g.edge_type(e)), v, e));
            }
        }
        holders.sort();
        holders.dedup_by_key(|h| h.2);
        let mut paths: Vec<RetainerPath> = Vec::new();
        for (_, _, v, e) in holders {
            let mut steps = vec![Step { edge: e, holder: v }];
            if v != HeapGraph::ROOT {
                let Some(p) = self.shortest_path(v) else {
                    continue;
                };
                // A holder whose own shortest path runs through the target would make a
                // cycle, not a path from the roots. One that runs through an earlier path's
                // direct holder says nothing new: an array's element store is held by the
                // array that already holds the object.
                let passes_earlier = |s: &Step| paths.iter().any(|q| q.steps[0].holder == s.holder);
                if p.steps.iter().any(|s| s.holder == n || passes_earlier(s)) {
                    continue;
                }
                steps.extend(p.steps);
            }
            paths.push(RetainerPath { target: n, steps });
            if paths.len() == k {
                break;
            }
        }
        paths
    }
}

#[cfg(test)]
mod tests {
    use crate::builder::GraphBuilder;
    use crate::graph::{EdgeType, NodeType};
    use crate::{Analysis, AnalysisOptions};

    #[test]
    fn a_path_through_an_earlier_paths_holder_is_not_another_path() {
        // global.list is an Array whose element store also holds the item (V8 reports both
        // the element edge and the store's slot); a second, real holder is global.cache.
        let mut b = GraphBuilder::new();
        let global = b.node(NodeType::Object, "global", 10);
        let list = b.node(NodeType::Object, "Array", 16);
        let store = b.node(NodeType::Array, "(object elements)", 64);
        let cache = b.node(NodeType::Object, "Cache", 16);
        let item = b.node(NodeType::Object, "Item", 32);
        b.edge(b.root(), EdgeType::Shortcut, "global", global);
        b.edge(global, EdgeType::Property, "list", list);
        b.edge(global, EdgeType::Property, "cache", cache);
        b.edge(list, EdgeType::Element, "0", item);
        b.edge(list, EdgeType::Internal, "elements", store);
        b.edge(store, EdgeType::Internal, "0", item);
        b.edge(cache, EdgeType::Property, "last", item);
        let a = Analysis::new(
            b.build(),
            &AnalysisOptions {
                retainer_paths: true,
                on_phase: None,
            },
        );
        let paths = a.retainer_paths(item, 3);
        let firsts: Vec<_> = paths.iter().map(|p| p.steps[0].holder).collect();
        assert_eq!(firsts.len(), 2, "{paths:?}");
        assert!(
            firsts.contains(&list) && firsts.contains(&cache),
            "{paths:?}"
        );
        assert!(
            !firsts.contains(&store),
            "the store only repeats the array: {paths:?}"
        );
    }
}
