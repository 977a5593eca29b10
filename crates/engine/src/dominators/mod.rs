//! Dominator tree and retained sizes (semi-NCA over flat `u32` arrays).
//!
//! A node's retained size is what the garbage collector would free if it were gone: its own
//! size plus everything only reachable through it, i.e. the sum over its subtree in the
//! dominator tree. We compute immediate dominators with the semi-NCA algorithm (Georgiadis et
//! al., "Finding dominators in practice"): one depth-first search, semidominators by
//! link-eval with path compression, then a nearest-common-ancestor walk per vertex.
//!
//! Memory is the constraint on 10 M+ node heaps, so the usual predecessor lists are cut
//! down: an edge `v → w` whose source comes *earlier* in DFS order contributes just `pre(v)`
//! to `w`'s semidominator, which the DFS applies on the spot. Only edges from later to
//! earlier vertices (cross and back edges) need the time-dependent `eval`, and only those are
//! stored, grouped by target.

mod dfs;
mod semi;
#[cfg(test)]
mod tests;

use crate::graph::{EdgeIndex, HeapGraph, NodeIndex};
use dfs::{attach_leftovers, Dfs};
use semi::{idoms_from_semidominators, semidominators, LatePredecessors};

/// Marks a node outside the tree (only possible for a root other than node 0's graph).
pub const UNREACHABLE: NodeIndex = NodeIndex::MAX;

/// Immediate dominators and retained sizes, indexed by node.
#[derive(Debug, Clone)]
pub struct DominatorTree {
    /// `idom[n]`: the immediate dominator of `n`; the root's is itself.
    pub idom: Vec<NodeIndex>,
    /// `retained[n]`: bytes freed if `n` were collected (sizes as folded by the caller).
    pub retained: Vec<u64>,
    /// Nodes essential edges reach from the root. The others (garbage, or objects held only
    /// weakly) still sit in the tree, attached under the root.
    reachable: crate::bitset::BitSet,
}

/// The dominator tree's children lists (compressed: one offsets array, one node array).
pub struct Children {
    offsets: Vec<u32>,
    nodes: Vec<NodeIndex>,
}

impl Children {
    pub fn of(&self, n: NodeIndex) -> &[NodeIndex] {
        &self.nodes[self.offsets[n as usize] as usize..self.offsets[n as usize + 1] as usize]
    }
}

impl DominatorTree {
    /// Children lists of the tree, built on demand (two `u32` per node).
    pub fn children(&self) -> Children {
        let n = self.idom.len();
        let is_child = |v: usize, d: u32| d != UNREACHABLE && d as usize != v;
        // Count into offsets[d], turn counts into range ends, then fill each range from its
        // end backwards, which leaves offsets[d] at the range's start.
        let mut offsets = vec![0u32; n + 1];
        for (v, &d) in self.idom.iter().enumerate() {
            if is_child(v, d) {
                offsets[d as usize] += 1;
            }
        }
        for i in 1..=n {
            offsets[i] += offsets[i - 1];
        }
        let mut nodes = vec![0; offsets[n] as usize];
        for (v, &d) in self.idom.iter().enumerate().rev() {
            if is_child(v, d) {
                offsets[d as usize] -= 1;
                nodes[offsets[d as usize] as usize] = v as NodeIndex;
            }
        }
        Children { offsets, nodes }
    }

    pub fn immediate_dominator(&self, n: NodeIndex) -> Option<NodeIndex> {
        match self.idom[n as usize] {
            UNREACHABLE => None,
            d => Some(d),
        }
    }

    /// True when essential edges reach `n` from the root.
    pub fn is_reachable(&self, n: NodeIndex) -> bool {
        self.reachable.get(n)
    }

    /// True when `a` dominates `b` (every path from the root to `b` passes `a`).
    pub fn dominates(&self, a: NodeIndex, mut b: NodeIndex) -> bool {
        loop {
            if a == b {
                return true;
            }
            match self.idom[b as usize] {
                UNREACHABLE => return false,
                d if d == b => return false,
                d => b = d,
            }
        }
    }
}

/// Computes the dominator tree from `root` over the edges `essential` accepts.
///
/// `essential(from, edge, to)` says whether an edge holds its target alive for the purpose
/// of retention (weak edges, for example, do not).
///
/// Nodes that essential edges do not reach from `root` are attached to it the way Chrome
/// DevTools does, so that totals agree: first every such node with no essential retainer at
/// all starts a search of its own under the root; whatever is still left (cycles of garbage)
/// hangs directly off the root, in node order. Only nodes that nothing at all reaches from
/// the root are reported unreachable by [`DominatorTree::is_reachable`].
pub fn compute(
    graph: &HeapGraph,
    root: NodeIndex,
    essential: impl Fn(NodeIndex, EdgeIndex, NodeIndex) -> bool,
) -> DominatorTree {
    let n = graph.node_count();
    // Preorder numbers start at 1 so that 0 can mean "not visited".
    let mut pre = vec![0u32; n];
    let mut dfs = Dfs::with_capacity(n);
    let t = crate::timing::stage("dominators: dfs");
    dfs.search(graph, root, 0, &essential, &mut pre);
    let reached_from_root = dfs.parent.len() - 1;
    if reached_from_root < n {
        attach_leftovers(graph, &essential, &mut pre, &mut dfs);
    }
    let count = dfs.parent.len(); // vertices + 1 (slot 0 unused)
    let Dfs {
        parent,
        semi,
        late_counts,
        ..
    } = dfs;
    drop(t);
    let t = crate::timing::stage("dominators: late edges");
    let late = LatePredecessors::build(graph, &pre, late_counts, &essential);
    drop(essential);
    drop(t);
    let t = crate::timing::stage("dominators: semidominators");

    let semi = semidominators(&parent, semi, &late);
    drop(late);
    drop(t);
    let t = crate::timing::stage("dominators: idom and sizes");

    let (idom_pre, _steps) = idoms_from_semidominators(&parent, &semi);
    drop((parent, semi));

    // Back from preorder numbers to node indices.
    let mut vertex = vec![0u32; count];
    for (node, &p) in pre.iter().enumerate() {
        if p != 0 {
            vertex[p as usize] = node as u32;
        }
    }
    let mut idom = pre; // reuse the allocation: every slot is rewritten below
    for (node, slot) in idom.iter_mut().enumerate() {
        let p = *slot;
        *slot = if p == 0 {
            UNREACHABLE
        } else if p == 1 {
            node as u32
        } else {
            vertex[idom_pre[p as usize] as usize]
        };
    }
    drop(idom_pre);

    // Retained sizes: children have larger preorder numbers than their dominator, so one
    // sweep from the last vertex to the first adds every subtree into its parent in time.
    let mut retained: Vec<u64> = (0..n as u32).map(|i| graph.self_size(i)).collect();
    for p in (2..count).rev() {
        let node = vertex[p];
        let d = idom[node as usize];
        retained[d as usize] += retained[node as usize];
    }
    let mut reachable = crate::bitset::BitSet::new(n);
    for &v in &vertex[1..=reached_from_root] {
        reachable.set(v);
    }
    drop(t);
    DominatorTree {
        idom,
        retained,
        reachable,
    }
}
