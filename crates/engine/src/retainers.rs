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
    /// first. Weak references are not paths: they do not keep anything alive.
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
        let mut paths = Vec::new();
        for (_, _, v, e) in holders {
            let mut steps = vec![Step { edge: e, holder: v }];
            if v != HeapGraph::ROOT {
                match self.shortest_path(v) {
                    // A holder whose own shortest path runs through the target would make a
                    // cycle, not a path from the roots.
                    Some(p) if p.steps.iter().all(|s| s.holder != n) => steps.extend(p.steps),
                    _ => continue,
                }
            }
            paths.push(RetainerPath { target: n, steps });
            if paths.len() == k {
                break;
            }
        }
        paths
    }
}
