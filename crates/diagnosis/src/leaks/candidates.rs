//! Finding the suspects before they are explained: what grows at every step, as one
//! candidate per place it accumulates. In stages:
//!
//! 1. `leak_roots_by_key`: the new objects' tops (leak roots), grouped by class and anchor;
//! 2. `growing_groups_by_anchor`: the groups that grow at every step, gathered per anchor;
//! 3. `one_per_anchor`: the groups under one anchor (a Map's keys and values) as one
//!    candidate, named by its biggest part that sits directly under the anchor;
//! 4. `merged_into_holders`: a candidate whose path runs through a bigger candidate's
//!    collection is part of that one's growth;
//! 5. `growing_collections`: collections that gain entries at every step with no new
//!    objects of their own (numbers, shared values), unless a candidate already holds them;
//! 6. the largest growth first, as many as are shown.

use leakhunt_engine::fold::is_storage;
use leakhunt_engine::graph::{EdgeType, HeapGraph, NodeType};
use leakhunt_engine::{Analysis, NodeIndex};

use super::anchors::AnchoredKeys;
use super::facts::Facts;
use super::growth::{Growth, Series};
use super::LeakOptions;
use crate::hash::{FastMap, FastSet};

/// A suspect before it is explained.
pub struct Candidate {
    pub growth: Growth,
    /// The representative object (for a collection growing by itself, the collection).
    pub object: NodeIndex,
    /// What the growth accumulates under.
    pub anchor: NodeIndex,
    /// The suspect is a collection growing by itself.
    pub is_collection: bool,
    /// The object and the holders on its shortest path (to tell which collections a
    /// candidate already explains).
    path_nodes: Vec<NodeIndex>,
}

/// The candidates of the ladder `all` (oldest first; `last` analysed in full), largest
/// growth per step first, at most `opts.max_suspects`.
pub fn find(
    last: &Analysis,
    keys: &AnchoredKeys,
    leak_roots: &[NodeIndex],
    all: &[&Facts],
    opts: &LeakOptions,
) -> Vec<Candidate> {
    let groups = leak_roots_by_key(last, keys, leak_roots);
    let by_anchor = growing_groups_by_anchor(last, keys, all, groups, opts);
    let parts = one_per_anchor(last, keys, by_anchor);
    let mut candidates = merged_into_holders(last, keys, parts);
    candidates.retain(|k| k.growth.bytes_per_step >= opts.min_bytes_per_step as f64);
    let mut held: FastSet<NodeIndex> = candidates
        .iter()
        .flat_map(|c| c.path_nodes.iter().copied())
        .collect();
    held.extend(direct_holders(last, &candidates));
    candidates.extend(growing_collections(last, all, &held, opts));
    candidates.sort_by(|a, b| b.growth.bytes_per_step.total_cmp(&a.growth.bytes_per_step));
    // Only the suspects shown are explained (paths, patterns, source lines): a heap with
    // thousands of growing collections would otherwise read scripts thousands of times.
    candidates.truncate(opts.max_suspects);
    candidates
}

/// Stage 1: the leak roots of the last snapshot (objects new since the first, at the top of
/// what they hold: [`super::roots::leak_roots`]), by anchored key.
fn leak_roots_by_key(
    last: &Analysis,
    keys: &AnchoredKeys,
    leak_roots: &[NodeIndex],
) -> FastMap<u64, Vec<NodeIndex>> {
    let mut groups: FastMap<u64, Vec<NodeIndex>> = FastMap::default();
    for &root in leak_roots {
        // Objects only the roots dominate (interned strings held by the string table and a
        // dictionary, values on the stack) have no holder of their own to blame.
        let anchor = keys.anchor[root as usize];
        if anchor == HeapGraph::ROOT || last.graph.node_type(anchor) == NodeType::Synthetic {
            continue;
        }
        groups
            .entry(keys.of_node[root as usize])
            .or_default()
            .push(root);
    }
    groups
}

/// Stage 2: the groups whose population and bytes rise at every step, each with its
/// representative (the member retaining most), gathered per anchor.
fn growing_groups_by_anchor(
    last: &Analysis,
    keys: &AnchoredKeys,
    all: &[&Facts],
    groups: FastMap<u64, Vec<NodeIndex>>,
    opts: &LeakOptions,
) -> FastMap<NodeIndex, Vec<(Growth, NodeIndex)>> {
    let mut by_anchor: FastMap<NodeIndex, Vec<(Growth, NodeIndex)>> = FastMap::default();
    for (key, members) in groups {
        let series = Series {
            counts: all
                .iter()
                .map(|f| f.populations.get(&key).copied().unwrap_or_default().count)
                .collect(),
            bytes: all
                .iter()
                .map(|f| f.populations.get(&key).copied().unwrap_or_default().bytes)
                .collect(),
        };
        let representative = *members
            .iter()
            .max_by_key(|&&n| (last.dominators.retained[n as usize], std::cmp::Reverse(n)))
            .unwrap();
        let growth = if last.graph.node_type(representative).is_string() {
            series.string_growth(opts.min_bytes_per_step)
        } else {
            series.growth()
        };
        let Some(growth) = growth else {
            continue;
        };
        let anchor = keys.anchor[representative as usize];
        if is_entry_of(last, representative, anchor) && !entries_rise(last, all, anchor) {
            continue;
        }
        by_anchor
            .entry(anchor)
            .or_default()
            .push((growth, representative));
    }
    by_anchor
}

/// Whether `n` is an entry of `anchor`: held by it through its own storage only (a Map's
/// hash table, an array's elements), nothing between. An object that its dominator does not
/// hold is no entry of it: Node's timer lists, which its timer map and its queue hold at
/// once, are dominated by the global object that reaches both.
fn is_entry_of(last: &Analysis, n: NodeIndex, anchor: NodeIndex) -> bool {
    let g = &last.graph;
    let idom = &last.dominators.idom;
    let holder = idom[n as usize];
    if !g.edges_of(holder).any(|e| g.edge_target(e) == n) {
        return false;
    }
    let mut d = holder;
    while d != anchor && d != HeapGraph::ROOT && is_storage(g, d) {
        d = idom[d as usize];
    }
    d == anchor
}

/// Whether the collection `anchor` gains entries at every step, or is not measured as one
/// in every snapshot (too small to say). Entries of a collection whose own entry count holds
/// still replace each other: what seems to grow among them is a change of kind (V8
/// flattening strings, for one), not more of them.
fn entries_rise(last: &Analysis, all: &[&Facts], anchor: NodeIndex) -> bool {
    let id = last.graph.node_id(anchor);
    let entries: Option<Vec<u64>> = all
        .iter()
        .map(|f| f.collections.get(&id).map(|c| c.entries))
        .collect();
    entries.is_none_or(|e| e.windows(2).all(|w| w[1] > w[0]))
}

/// Stage 3: one candidate per anchor. The bytes are every part's; the biggest part that
/// sits directly under the anchor names it (not one inside another part: the slabs of
/// ArrayBuffer behind a list of Buffers, found through the Buffers, are the Buffers' bytes).
fn one_per_anchor(
    last: &Analysis,
    keys: &AnchoredKeys,
    by_anchor: FastMap<NodeIndex, Vec<(Growth, NodeIndex)>>,
) -> Vec<(Growth, NodeIndex)> {
    let mut candidates: Vec<(Growth, NodeIndex)> = Vec::new();
    for (anchor, mut parts) in by_anchor {
        parts.sort_by(|a, b| b.0.bytes_per_step.total_cmp(&a.0.bytes_per_step));
        let part_keys: FastSet<u64> = parts.iter().map(|p| keys.of_node[p.1 as usize]).collect();
        let inside_another_part = |n: NodeIndex| {
            let Some(path) = last.shortest_path(n) else {
                return false;
            };
            path.steps
                .iter()
                .map(|s| s.holder)
                .take_while(|&h| h != anchor)
                .any(|h| part_keys.contains(&keys.of_node[h as usize]))
        };
        let naming = if parts.len() > 1 {
            parts
                .iter()
                .position(|p| !inside_another_part(p.1))
                .unwrap_or(0)
        } else {
            0
        };
        let (mut growth, representative) = parts.swap_remove(naming);
        for (g, _) in &parts {
            growth.absorb(g);
        }
        candidates.push((growth, representative));
    }
    candidates
}

/// Stage 4: objects shared by the entries of a growing collection and something else are
/// dominated higher up and form a group of their own; when their path runs through a bigger
/// candidate's collection, they are that candidate's growth.
fn merged_into_holders(
    last: &Analysis,
    keys: &AnchoredKeys,
    mut candidates: Vec<(Growth, NodeIndex)>,
) -> Vec<Candidate> {
    candidates.sort_by(|a, b| b.0.bytes_per_step.total_cmp(&a.0.bytes_per_step));
    let mut kept: Vec<Candidate> = Vec::new();
    // Kept candidates by anchor (one candidate per anchor): the first one on a path owns it.
    let mut kept_at: FastMap<NodeIndex, usize> = FastMap::default();
    for (growth, representative) in candidates {
        let anchor = keys.anchor[representative as usize];
        let path_nodes = path_nodes(last, representative);
        // (the holders on its path, nearest first: all but the object itself, which comes
        // last)
        let holders = &path_nodes[..path_nodes.len() - 1];
        // A collection of its own below the other's on the path is another leak that the
        // shortest path happens to reach through it (an app object kept by each of the
        // other's entries and by a variable further away), not a part of its growth.
        let own_anchor_at = holders.iter().position(|&h| h == anchor);
        let owner = holders
            .iter()
            .enumerate()
            .filter(|&(at, _)| own_anchor_at.is_none_or(|own| own > at))
            .filter_map(|(_, h)| kept_at.get(h))
            .min();
        match owner {
            Some(&i) => kept[i].growth.absorb(&growth),
            None => {
                kept_at.entry(anchor).or_insert(kept.len());
                kept.push(Candidate {
                    growth,
                    object: representative,
                    anchor,
                    is_collection: false,
                    path_nodes,
                });
            }
        }
    }
    kept
}

/// The objects holding a candidate's object directly (past storage), off its shortest path
/// too: a collection holding what a candidate already counts (Node's timer queue beside its
/// timer map) is that candidate's growth. One pass over the edges.
fn direct_holders(last: &Analysis, candidates: &[Candidate]) -> Vec<NodeIndex> {
    let g = &last.graph;
    let objects: FastSet<NodeIndex> = candidates.iter().map(|c| c.object).collect();
    let mut holders = Vec::new();
    for s in 0..g.node_count() as NodeIndex {
        if g.edges_of(s)
            .any(|e| g.edge_type(e) != EdgeType::Weak && objects.contains(&g.edge_target(e)))
        {
            let mut h = s;
            while h != HeapGraph::ROOT && is_storage(g, h) {
                h = last.dominators.idom[h as usize];
            }
            holders.push(h);
        }
    }
    holders
}

/// `n` and the holders on its shortest path.
fn path_nodes(last: &Analysis, n: NodeIndex) -> Vec<NodeIndex> {
    let mut nodes: Vec<NodeIndex> = last
        .shortest_path(n)
        .map(|p| {
            p.steps
                .iter()
                .map(|s| s.holder)
                .filter(|&h| h != HeapGraph::ROOT)
                .collect()
        })
        .unwrap_or_default();
    nodes.push(n);
    nodes
}

/// Stage 5: collections that exist in every snapshot and gain entries and bytes at every step, and
/// are not on the path of a suspect already found (`held`: their growth is that suspect's).
fn growing_collections(
    last: &Analysis,
    all: &[&Facts],
    held: &FastSet<NodeIndex>,
    opts: &LeakOptions,
) -> Vec<Candidate> {
    let g = &last.graph;
    let last_facts = all[all.len() - 1];
    let mut growing = Vec::new();
    for &id in last_facts.collections.keys() {
        let sizes: Option<Vec<_>> = all
            .iter()
            .map(|f| f.collections.get(&id).copied())
            .collect();
        let Some(sizes) = sizes else { continue };
        let series = Series {
            counts: sizes.iter().map(|s| s.entries).collect(),
            bytes: sizes.iter().map(|s| s.self_size.max(s.retained)).collect(),
        };
        let Some(growth) = series.growth() else {
            continue;
        };
        if growth.bytes_per_step >= opts.min_bytes_per_step as f64 {
            growing.push((id, growth));
        }
    }
    if growing.is_empty() {
        return Vec::new();
    }
    // Their nodes, found in one pass over the ids (the first node of each id).
    let mut node_of: FastMap<u32, NodeIndex> = growing
        .iter()
        .map(|&(id, _)| (id, NodeIndex::MAX))
        .collect();
    for n in 0..g.node_count() as NodeIndex {
        if let Some(slot) = node_of.get_mut(&g.node_id(n)) {
            if *slot == NodeIndex::MAX {
                *slot = n;
            }
        }
    }
    growing
        .into_iter()
        .filter_map(|(id, growth)| {
            let node = node_of[&id];
            (node != NodeIndex::MAX && !held.contains(&node)).then(|| Candidate {
                growth,
                object: node,
                anchor: node,
                is_collection: true,
                path_nodes: Vec::new(),
            })
        })
        .collect()
}
