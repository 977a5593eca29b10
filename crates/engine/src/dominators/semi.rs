//! Semidominators by link-eval with path compression over the late edges (source after
//! target in preorder), and immediate dominators from them by the nearest-common-ancestor
//! walk.

use crate::graph::{EdgeIndex, HeapGraph, NodeIndex};
use crate::prefetch::{prefetch, DISTANCE};

/// Semidominators by preorder number: `semi` holds the candidates from edges whose source
/// precedes their target (the DFS applied them); the late edges are applied here, by
/// link-eval with path compression.
pub(super) fn semidominators(
    parent: &[u32],
    mut semi: Vec<u32>,
    late: &LatePredecessors,
) -> Vec<u32> {
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
pub(super) fn idoms_from_semidominators(parent: &[u32], semi: &[u32]) -> (Vec<u32>, u64) {
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
pub(super) fn relative_idoms(parent: &[u32], semi: &[u32]) -> (Vec<u32>, u64) {
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

/// Marks the first source of each target's group in [`LatePredecessors::sources`].
const GROUP_START: u32 = 1 << 31;

/// The late edges (source after target in preorder), as sources grouped by target in
/// ascending target order. Instead of an offsets array (4 bytes a vertex, at the moment
/// memory peaks) each group's first entry carries [`GROUP_START`] and a bit per vertex says
/// whether it has a group; the main loop walks the groups from the back.
pub(super) struct LatePredecessors {
    sources: Vec<u32>,
    has_group: crate::bitset::BitSet,
}

impl LatePredecessors {
    /// Built in one more pass over the edges, from the per-target counts the DFS made.
    pub(super) fn build(
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
