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

use crate::graph::{EdgeIndex, HeapGraph, NodeIndex};
use crate::prefetch::{prefetch, DISTANCE};

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

/// Semidominators by preorder number: `semi` holds the candidates from edges whose source
/// precedes their target (the DFS applied them); the late edges are applied here, by
/// link-eval with path compression.
fn semidominators(parent: &[u32], mut semi: Vec<u32>, late: &LatePredecessors) -> Vec<u32> {
    let count = parent.len();
    // Link-eval with path compression. A vertex's ancestor starts as its DFS parent; a vertex
    // counts as linked once it has been processed (its number is above the current one).
    // Ancestor and label sit side by side: eval reads both for every vertex it passes.
    let mut links: Vec<Link> = parent
        .iter()
        .enumerate()
        .map(|(v, &a)| Link {
            ancestor: a,
            label: v as u32,
        })
        .collect();
    let mut stack: Vec<u32> = Vec::new();
    let mut cursor = late.sources.len();
    for w in (2..count).rev() {
        if !late.has_group.get(w as u32) {
            continue;
        }
        let mut s = semi[w];
        loop {
            cursor -= 1;
            if let Some(&ahead) = cursor
                .checked_sub(DISTANCE)
                .and_then(|i| late.sources.get(i))
            {
                prefetch(&links, (ahead & !GROUP_START) as usize);
            }
            let entry = late.sources[cursor];
            let v = entry & !GROUP_START;
            let u = eval(v, w as u32 + 1, &mut links, &semi, &mut stack);
            s = s.min(semi[u as usize]);
            if entry & GROUP_START != 0 {
                break;
            }
        }
        semi[w] = s;
    }
    semi
}

/// Immediate dominators by preorder number, from DFS parents and semidominators; also the
/// steps taken (tests check they stay linear in the vertices).
///
/// idom(w) = NCA(parent(w), semi(w)) in the DFS tree: walk up the already-final idoms. That
/// walk is short on real heaps and fast, but it can be as long as the tree is deep: a deep
/// chain whose members' children are also held from far above (a linked list and a table
/// of the same entries, as in an LRU cache) costs depth² steps. So past a budget of steps
/// the walk gives up, and the dominators come from Lengauer and Tarjan's relative
/// dominators instead (one more link-eval pass, near-linear on any graph).
fn idoms_from_semidominators(parent: &[u32], semi: &[u32]) -> (Vec<u32>, u64) {
    let count = parent.len();
    let budget = 16 * count as u64 + (1 << 20);
    let mut idom = parent.to_vec();
    let mut steps = 0u64;
    for w in 2..count {
        let mut d = parent[w];
        while d > semi[w] {
            d = idom[d as usize];
            steps += 1;
        }
        idom[w] = d;
        if steps > budget {
            drop(idom);
            let (idom, more) = relative_idoms(parent, semi);
            return (idom, steps + more);
        }
    }
    (idom, steps)
}

/// Immediate dominators by preorder number from semidominators, as Lengauer and Tarjan
/// finish: for each w, the vertex u of smallest semidominator on the tree path from semi(w)
/// (excluded) down to w, found by `eval` once everything below semi(w) is linked; then
/// idom(w) = semi(w) when u = w's own semidominator holds, else idom(u). Also the steps.
fn relative_idoms(parent: &[u32], semi: &[u32]) -> (Vec<u32>, u64) {
    let count = parent.len();
    // Vertices grouped by semidominator (counting sort): those of s in by_semi[start[s]..start[s + 1]].
    let mut start = vec![0u32; count + 1];
    for &s in &semi[2..] {
        start[s as usize + 1] += 1;
    }
    for i in 1..=count {
        start[i] += start[i - 1];
    }
    let mut by_semi = vec![0u32; count.saturating_sub(2)];
    let mut fill = start.clone();
    for (w, &s) in semi.iter().enumerate().skip(2) {
        by_semi[fill[s as usize] as usize] = w as u32;
        fill[s as usize] += 1;
    }
    drop(fill);
    let mut links: Vec<Link> = parent
        .iter()
        .enumerate()
        .map(|(v, &a)| Link {
            ancestor: a,
            label: v as u32,
        })
        .collect();
    let mut stack = Vec::new();
    // relative[w]: u, or w's semidominator when that is w's dominator.
    let mut relative = vec![0u32; count];
    let mut steps = 0u64;
    for s in (1..count).rev() {
        // Everything numbered above s is linked; s is not.
        for &w in &by_semi[start[s] as usize..start[s + 1] as usize] {
            let u = eval(w, s as u32 + 1, &mut links, semi, &mut stack);
            relative[w as usize] = if semi[u as usize] < semi[w as usize] {
                u
            } else {
                s as u32
            };
            steps += 1;
        }
    }
    drop((links, by_semi, start));
    let mut idom = relative;
    idom[1] = 1;
    for w in 2..count {
        let r = idom[w];
        idom[w] = if r == semi[w] { r } else { idom[r as usize] };
    }
    (idom, steps)
}

/// How many edges of the vertex on top of the stack to look ahead (most vertices have few).
const DFS_AHEAD: u32 = 4;

struct Dfs {
    /// DFS parent by preorder number (slot 0 unused, root's parent is itself).
    parent: Vec<u32>,
    /// Semidominator candidates from edges whose source precedes their target.
    semi: Vec<u32>,
    /// Per target preorder number: how many essential edges come from a later vertex.
    late_counts: Vec<u32>,
    stack: Vec<(NodeIndex, EdgeIndex)>,
}

impl Dfs {
    fn with_capacity(n: usize) -> Dfs {
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

    fn number(&mut self, node: NodeIndex, parent: u32, pre: &mut [u32]) -> u32 {
        let p = self.parent.len() as u32;
        pre[node as usize] = p;
        self.parent.push(if parent == 0 { p } else { parent });
        self.semi.push(if parent == 0 { p } else { parent });
        self.late_counts.push(0);
        p
    }

    /// Classifies edge `v → w` of an already numbered `v` whose target is numbered too.
    #[inline]
    fn classify(&mut self, pv: u32, pw: u32) {
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
    fn search(
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
fn attach_leftovers(
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

/// Marks the first source of each target's group in [`LatePredecessors::sources`].
const GROUP_START: u32 = 1 << 31;

/// The late edges (source after target in preorder), as sources grouped by target in
/// ascending target order. Instead of an offsets array (4 bytes a vertex, at the moment
/// memory peaks) each group's first entry carries [`GROUP_START`] and a bit per vertex says
/// whether it has a group; the main loop walks the groups from the back.
struct LatePredecessors {
    sources: Vec<u32>,
    has_group: crate::bitset::BitSet,
}

impl LatePredecessors {
    /// Built in one more pass over the edges, from the per-target counts the DFS made.
    fn build(
        graph: &HeapGraph,
        pre: &[u32],
        counts: Vec<u32>,
        essential: &impl Fn(NodeIndex, EdgeIndex, NodeIndex) -> bool,
    ) -> LatePredecessors {
        assert!(
            counts.len() < GROUP_START as usize,
            "too many nodes for 31-bit preorder numbers"
        );
        // counts[t] becomes the end of t's range, then is walked down while filling, which
        // leaves it at the range's start.
        let mut pos = counts;
        let mut total = 0u32;
        for slot in pos.iter_mut() {
            total += *slot;
            *slot = total;
        }
        let mut sources = vec![0u32; total as usize];
        let targets = &graph.edge_targets;
        for v in 0..graph.node_count() as u32 {
            let pv = pre[v as usize];
            if pv == 0 {
                continue;
            }
            for e in graph.edges_of(v) {
                // Two steps of lookahead: the target's number, then that number's slot.
                if let Some(&ahead) = targets.get(e as usize + DISTANCE) {
                    prefetch(pre, ahead as usize);
                }
                if let Some(&near) = targets.get(e as usize + DISTANCE / 2) {
                    prefetch(&pos, pre[near as usize] as usize);
                }
                let w = targets[e as usize];
                let pw = pre[w as usize];
                if pw != 0 && pw < pv && essential(v, e, w) {
                    let slot = &mut pos[pw as usize];
                    *slot -= 1;
                    sources[*slot as usize] = pv;
                }
            }
        }
        let mut has_group = crate::bitset::BitSet::new(pos.len());
        for t in 1..pos.len() {
            let end = pos.get(t + 1).copied().unwrap_or(total);
            if end > pos[t] {
                sources[pos[t] as usize] |= GROUP_START;
                has_group.set(t as u32);
            }
        }
        LatePredecessors { sources, has_group }
    }
}

/// Per vertex, for link-eval: the (compressed) ancestor in the linked forest and the vertex
/// with the smallest semidominator on the path to it.
#[derive(Clone, Copy)]
struct Link {
    ancestor: u32,
    label: u32,
}

/// The vertex with the smallest semidominator on the path from `v` up to (not including) the
/// root of its linked tree, compressing the path on the way.
#[inline]
fn eval(v: u32, last_linked: u32, links: &mut [Link], semi: &[u32], stack: &mut Vec<u32>) -> u32 {
    let first = links[v as usize];
    if first.ancestor < last_linked {
        return first.label;
    }
    // Collect the path up to the last vertex whose ancestor is still linked.
    let mut x = v;
    loop {
        stack.push(x);
        x = links[x as usize].ancestor;
        if links[x as usize].ancestor < last_linked {
            break;
        }
    }
    // Compress: everything on the path now points at the tree root, carrying the best label.
    let mut p = links[x as usize];
    while let Some(y) = stack.pop() {
        let link = &mut links[y as usize];
        link.ancestor = p.ancestor;
        if semi[p.label as usize] < semi[link.label as usize] {
            link.label = p.label;
        }
        p = *link;
    }
    links[v as usize].label
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::GraphBuilder;
    use crate::graph::{EdgeType, NodeType};

    fn not_weak(g: &HeapGraph) -> impl Fn(NodeIndex, EdgeIndex, NodeIndex) -> bool + '_ {
        move |_, e, _| g.edge_type(e) != EdgeType::Weak
    }

    fn obj(b: &mut GraphBuilder, name: &str, size: u64) -> NodeIndex {
        b.node(NodeType::Object, name, size)
    }

    /// A chain the depth-first search walks first, each link holding a payload that an
    /// array met later holds too (an LRU cache: a linked list and a table of the same
    /// entries): the payloads' dominator is far above their DFS parents.
    fn chain_with_payloads_held_twice(links: usize) -> HeapGraph {
        let mut b = GraphBuilder::new();
        let head = obj(&mut b, "Link", 10);
        let table = obj(&mut b, "Array", 10);
        b.edge(0, EdgeType::Element, "1", head);
        b.edge(0, EdgeType::Element, "2", table);
        let mut last = head;
        for i in 0..links {
            let link = obj(&mut b, "Link", 10);
            let payload = obj(&mut b, "Payload", 10);
            b.edge(last, EdgeType::Property, "next", link);
            b.edge(link, EdgeType::Property, "p", payload);
            b.edge(table, EdgeType::Element, &i.to_string(), payload);
            last = link;
        }
        b.build()
    }

    #[test]
    fn payloads_held_by_a_chain_and_a_table_are_dominated_by_the_root() {
        let g = chain_with_payloads_held_twice(200);
        let t = compute(&g, 0, not_weak(&g));
        let (reference, _) = brute_force_idom(&g);
        assert_eq!(t.idom, reference);
        let payload = 4; // head, table, then link, payload, link, payload, …
        assert_eq!(g.node_name(payload), "Payload");
        assert_eq!(t.idom[payload as usize], 0);
    }

    #[test]
    fn idoms_take_linear_steps_on_a_deep_chain_with_shortcuts() {
        // Walking up from each payload's DFS parent (its link, 1 to 20,000 deep) to the root
        // took 200 million steps.
        let g = chain_with_payloads_held_twice(20_000);
        let n = g.node_count();
        let (parent, semi) = parents_and_semidominators(&g);
        let (_, steps) = idoms_from_semidominators(&parent, &semi);
        assert!(steps <= 64 * n as u64, "{steps} steps for {n} vertices");
    }

    /// DFS parents and semidominators of the vertices the root's search reaches.
    fn parents_and_semidominators(g: &HeapGraph) -> (Vec<u32>, Vec<u32>) {
        let mut pre = vec![0u32; g.node_count()];
        let mut dfs = Dfs::with_capacity(g.node_count());
        let essential = not_weak(g);
        dfs.search(g, 0, 0, &essential, &mut pre);
        let late = LatePredecessors::build(g, &pre, dfs.late_counts.clone(), &essential);
        let semi = semidominators(&dfs.parent, dfs.semi.clone(), &late);
        (dfs.parent, semi)
    }

    #[test]
    fn relative_dominators_agree_with_the_tree_walk() {
        // The fallback past the walk's budget must give the same tree.
        let mut graphs = vec![chain_with_payloads_held_twice(300)];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rand = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        for _ in 0..300 {
            let mut b = GraphBuilder::new();
            let n = 2 + rand(40) as u32;
            for i in 1..n {
                b.node(NodeType::Object, "N", i as u64);
            }
            for k in 0..rand(3 * n as u64 + 1) {
                let (from, to) = (rand(n as u64) as u32, rand(n as u64) as u32);
                b.edge(from, EdgeType::Property, &format!("e{k}"), to);
            }
            graphs.push(b.build());
        }
        for (i, g) in graphs.iter().enumerate() {
            let (parent, semi) = parents_and_semidominators(g);
            let (walked, _) = idoms_from_semidominators(&parent, &semi);
            let (relative, _) = relative_idoms(&parent, &semi);
            assert_eq!(walked[1..], relative[1..], "graph {i}");
        }
    }

    #[test]
    fn chain_retains_everything_below() {
        let mut b = GraphBuilder::new();
        let a = obj(&mut b, "A", 10);
        let c = obj(&mut b, "B", 20);
        let d = obj(&mut b, "C", 30);
        b.edge(0, EdgeType::Element, "1", a);
        b.edge(a, EdgeType::Property, "next", c);
        b.edge(c, EdgeType::Property, "next", d);
        let g = b.build();
        let t = compute(&g, 0, not_weak(&g));
        assert_eq!(t.idom, vec![0, 0, a, c]);
        assert_eq!(t.retained, vec![60, 60, 50, 30]);
    }

    #[test]
    fn diamond_join_is_dominated_by_the_fork() {
        // root → A → {B, C} → D: D is held by both branches, so A dominates it.
        let mut b = GraphBuilder::new();
        let a = obj(&mut b, "A", 1);
        let l = obj(&mut b, "B", 2);
        let r = obj(&mut b, "C", 4);
        let d = obj(&mut b, "D", 8);
        b.edge(0, EdgeType::Element, "1", a);
        b.edge(a, EdgeType::Property, "l", l);
        b.edge(a, EdgeType::Property, "r", r);
        b.edge(l, EdgeType::Property, "d", d);
        b.edge(r, EdgeType::Property, "d", d);
        let g = b.build();
        let t = compute(&g, 0, not_weak(&g));
        assert_eq!(t.idom[d as usize], a);
        assert_eq!(t.retained[l as usize], 2);
        assert_eq!(t.retained[r as usize], 4);
        assert_eq!(t.retained[a as usize], 15);
    }

    #[test]
    fn cycle_members_are_dominated_by_the_entry() {
        // root → A → B → C → A: entering at A, each later member is dominated by its
        // predecessor on the cycle, and A retains the whole cycle.
        let mut b = GraphBuilder::new();
        let a = obj(&mut b, "A", 1);
        let bb = obj(&mut b, "B", 2);
        let c = obj(&mut b, "C", 4);
        b.edge(0, EdgeType::Element, "1", a);
        b.edge(a, EdgeType::Property, "n", bb);
        b.edge(bb, EdgeType::Property, "n", c);
        b.edge(c, EdgeType::Property, "n", a);
        let g = b.build();
        let t = compute(&g, 0, not_weak(&g));
        assert_eq!(t.idom, vec![0, 0, a, bb]);
        assert_eq!(t.retained[a as usize], 7);
    }

    #[test]
    fn weak_edge_neither_retains_nor_makes_reachable() {
        // root → A, root → B, A ─weak→ C, B → C: only B holds C. And D, reached only
        // through a weak edge, is unreachable.
        let mut b = GraphBuilder::new();
        let a = obj(&mut b, "A", 1);
        let bb = obj(&mut b, "B", 2);
        let c = obj(&mut b, "C", 100);
        let d = obj(&mut b, "D", 1000);
        b.edge(0, EdgeType::Element, "1", a);
        b.edge(0, EdgeType::Element, "2", bb);
        b.edge(a, EdgeType::Weak, "1", c);
        b.edge(bb, EdgeType::Property, "c", c);
        b.edge(a, EdgeType::Weak, "2", d);
        let g = b.build();
        let t = compute(&g, 0, not_weak(&g));
        assert_eq!(t.idom[c as usize], bb);
        assert_eq!(t.retained[bb as usize], 102);
        assert_eq!(t.retained[a as usize], 1);
        assert!(!t.is_reachable(d));
        // Like DevTools, a node held only weakly hangs off the root, so totals add up.
        assert_eq!(t.idom[d as usize], 0);
        assert_eq!(t.retained[0], 1103);
    }

    #[test]
    fn unreachable_island_is_left_out() {
        // X ↔ Y reference each other but nothing reaches them from the root.
        let mut b = GraphBuilder::new();
        let a = obj(&mut b, "A", 5);
        let x = obj(&mut b, "X", 50);
        let y = obj(&mut b, "Y", 60);
        b.edge(0, EdgeType::Element, "1", a);
        b.edge(x, EdgeType::Property, "y", y);
        b.edge(y, EdgeType::Property, "x", x);
        let g = b.build();
        let t = compute(&g, 0, not_weak(&g));
        assert!(!t.is_reachable(x) && !t.is_reachable(y));
        // Garbage cycles hang off the root one node at a time, as in DevTools.
        assert_eq!((t.idom[x as usize], t.idom[y as usize]), (0, 0));
        assert_eq!(t.retained[0], 115);
        assert_eq!(t.retained[x as usize], 50);
    }

    /// Reference, straight from the definition: `d` dominates `v` when removing `d` makes `v`
    /// unreachable. Nodes the root misses are first attached under it by the DevTools rule
    /// (`compute`'s docs), as extra root edges.
    fn brute_force_idom(g: &HeapGraph) -> (Vec<NodeIndex>, Vec<bool>) {
        let n = g.node_count();
        let essential = |e: EdgeIndex| g.edge_type(e) != EdgeType::Weak;
        let reach = |extra: &[NodeIndex], skip: Option<NodeIndex>| {
            let mut seen = vec![false; n];
            let mut stack = vec![0u32];
            seen[0] = true;
            for &x in extra {
                if Some(x) != skip && !seen[x as usize] {
                    seen[x as usize] = true;
                    stack.push(x);
                }
            }
            while let Some(v) = stack.pop() {
                for e in g.edges_of(v) {
                    let w = g.edge_target(e);
                    if !essential(e) || Some(w) == skip || seen[w as usize] {
                        continue;
                    }
                    seen[w as usize] = true;
                    stack.push(w);
                }
            }
            seen
        };
        let from_root = reach(&[], None);
        let has_retainer: Vec<bool> = (0..n as u32)
            .map(|w| {
                (0..n as u32).any(|v| {
                    g.edges_of(v)
                        .any(|e| essential(e) && g.edge_target(e) == w && v != w)
                })
            })
            .collect();
        let mut extra: Vec<NodeIndex> = (0..n as u32)
            .filter(|&v| !from_root[v as usize] && !has_retainer[v as usize])
            .collect();
        let with_starts = reach(&extra, None);
        extra.extend((0..n as u32).filter(|&v| !with_starts[v as usize]));
        let doms: Vec<Vec<bool>> = (0..n as u32)
            .map(|d| {
                let r = reach(&extra, Some(d));
                (0..n).map(|v| !r[v]).collect()
            })
            .collect();
        let idom = (0..n)
            .map(|v| {
                if v == 0 {
                    return 0;
                }
                // Among v's strict dominators (the root always is one), the nearest is the one
                // dominated by all the others.
                let strict: Vec<usize> = (0..n)
                    .filter(|&d| d != v && (d == 0 || doms[d][v]))
                    .collect();
                *strict
                    .iter()
                    .find(|&&d| strict.iter().all(|&o| o == d || o == 0 || doms[o][d]))
                    .unwrap() as NodeIndex
            })
            .collect();
        (idom, from_root)
    }

    #[test]
    fn matches_brute_force_on_random_graphs() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rand = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        for round in 0..300 {
            let mut b = GraphBuilder::new();
            let n = 2 + rand(25) as u32;
            for i in 1..n {
                b.node(NodeType::Object, "N", 1 + i as u64);
            }
            let m = rand(3 * n as u64 + 1);
            for k in 0..m {
                let from = rand(n as u64) as u32;
                let to = rand(n as u64) as u32;
                let t = if rand(6) == 0 {
                    EdgeType::Weak
                } else {
                    EdgeType::Property
                };
                b.edge(from, t, &format!("e{k}"), to);
            }
            let g = b.build();
            let t = compute(&g, 0, not_weak(&g));
            let (expected, reachable) = brute_force_idom(&g);
            assert_eq!(t.idom, expected, "round {round}");
            for (v, &r) in reachable.iter().enumerate() {
                assert_eq!(t.is_reachable(v as u32), r, "round {round} node {v}");
            }
            // Retained size = self + sum of dominated children's retained sizes.
            for v in 0..g.node_count() as u32 {
                let children: u64 = (1..g.node_count() as u32)
                    .filter(|&c| c != v && t.idom[c as usize] == v)
                    .map(|c| t.retained[c as usize])
                    .sum();
                assert_eq!(
                    t.retained[v as usize],
                    g.self_size(v) + children,
                    "round {round}"
                );
            }
        }
    }
}
