//! The depth-first search of the dominator computation: preorder numbers, DFS parents, and
//! the semidominator candidates of edges whose source precedes their target (applied on the
//! spot); nodes the root's search misses are attached as DevTools attaches them.

use crate::graph::{EdgeIndex, HeapGraph, NodeIndex};
use crate::prefetch::prefetch;

/// How many edges of the vertex on top of the stack to look ahead (most vertices have few).
const DFS_AHEAD: u32 = 4;

pub(super) struct Dfs {
    /// DFS parent by preorder number (slot 0 unused, root's parent is itself).
    pub(super) parent: Vec<u32>,
    /// Semidominator candidates from edges whose source precedes their target.
    pub(super) semi: Vec<u32>,
    /// Per target preorder number: how many essential edges come from a later vertex.
    pub(super) late_counts: Vec<u32>,
    stack: Vec<(NodeIndex, EdgeIndex)>,
}

impl Dfs {
    pub(super) fn with_capacity(n: usize) -> Dfs {
        // Sized for every node up front: growing by doubling would briefly need twice the
        // memory on the largest heaps.
        let mut d = Dfs {
            parent: Vec::with_capacity(n + 1),
            semi: Vec::with_capacity(n + 1),
            late_counts: Vec::with_capacity(n + 1),
            stack: Vec::new(),
        };
        d.parent.push(0);
        d.semi.push(0);
        d.late_counts.push(0);
        d
    }

    pub(super) fn number(&mut self, node: NodeIndex, parent: u32, pre: &mut [u32]) -> u32 {
        let p = self.parent.len() as u32;
        pre[node as usize] = p;
        self.parent.push(if parent == 0 { p } else { parent });
        self.semi.push(if parent == 0 { p } else { parent });
        self.late_counts.push(0);
        p
    }

    /// Classifies edge `v → w` of an already numbered `v` whose target is numbered too.
    #[inline]
    pub(super) fn classify(&mut self, pv: u32, pw: u32) {
        if pw > pv {
            let s = &mut self.semi[pw as usize];
            *s = (*s).min(pv);
        } else if pw != pv {
            self.late_counts[pw as usize] += 1;
        }
    }

    /// Iterative DFS from `start`, numbering vertices in preorder into `pre`; `start` gets
    /// `parent` as its DFS parent (0 for the root, which is its own parent).
    ///
    /// Every essential edge is classified once, when its source is on top of the stack:
    /// unvisited target → tree edge; visited with a larger number → the target is a
    /// descendant, so the source's number is a semidominator candidate right away; smaller
    /// number → a late edge, counted here and stored by [`LatePredecessors::build`].
    pub(super) fn search(
        &mut self,
        graph: &HeapGraph,
        start: NodeIndex,
        parent: u32,
        essential: &impl Fn(NodeIndex, EdgeIndex, NodeIndex) -> bool,
        pre: &mut [u32],
    ) {
        self.number(start, parent, pre);
        self.stack.push((start, graph.first_edge[start as usize]));
        while let Some(top) = self.stack.last_mut() {
            let (v, e) = *top;
            let end = graph.first_edge[v as usize + 1];
            if e == end {
                self.stack.pop();
                continue;
            }
            top.1 = e + 1;
            // The targets' numbers are random reads; ask for the ones a few edges ahead.
            if e + DFS_AHEAD < end {
                prefetch(pre, graph.edge_targets[(e + DFS_AHEAD) as usize] as usize);
            }
            let w = graph.edge_targets[e as usize];
            if !essential(v, e, w) {
                continue;
            }
            let pv = pre[v as usize];
            let pw = pre[w as usize];
            if pw == 0 {
                self.number(w, pv, pre);
                self.stack.push((w, graph.first_edge[w as usize]));
            } else {
                self.classify(pv, pw);
            }
        }
    }
}

/// Numbers the nodes the root's search missed, as DevTools attaches them: nodes with no
/// essential retainer start their own search under the root; the rest hang off the root.
pub(super) fn attach_leftovers(
    graph: &HeapGraph,
    essential: &impl Fn(NodeIndex, EdgeIndex, NodeIndex) -> bool,
    pre: &mut [u32],
    dfs: &mut Dfs,
) {
    let n = graph.node_count();
    // Essential retainers of a missed node can only be missed nodes themselves (an edge from
    // a numbered node would have been followed), so only their edges need looking at.
    let mut retained = crate::bitset::BitSet::new(n);
    for v in 0..n as NodeIndex {
        if pre[v as usize] == 0 {
            for e in graph.edges_of(v) {
                let w = graph.edge_target(e);
                if w != v && essential(v, e, w) {
                    retained.set(w);
                }
            }
        }
    }
    for v in 0..n as NodeIndex {
        if pre[v as usize] == 0 && !retained.get(v) {
            dfs.search(graph, v, 1, essential, pre);
        }
    }
    let first_leftover = dfs.parent.len() as u32;
    for v in 0..n as NodeIndex {
        if pre[v as usize] == 0 {
            dfs.number(v, 1, pre);
        }
    }
    // Their edges were never walked: classify them now that every node has a number.
    for v in 0..n as NodeIndex {
        let pv = pre[v as usize];
        if pv < first_leftover {
            continue;
        }
        for e in graph.edges_of(v) {
            let w = graph.edge_target(e);
            if essential(v, e, w) {
                dfs.classify(pv, pre[w as usize]);
            }
        }
    }
}
