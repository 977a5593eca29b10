//! What the diagnosis measures in every snapshot of a ladder, so that only the last one's
//! graph has to stay in memory.

use std::collections::HashMap;
use std::path::PathBuf;

use leakhunt_engine::distances::NO_DISTANCE;
use leakhunt_engine::fold::is_storage;
use leakhunt_engine::graph::{EdgeType, HeapGraph, NodeIndex, NodeType};
use leakhunt_engine::Analysis;
use serde::{Deserialize, Serialize};

use super::anchors::AnchoredKeys;
use super::chain::ChainLinks;
use crate::identity::Fingerprints;

/// Count and retained bytes of the objects sharing one path signature.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Population {
    pub count: u64,
    pub bytes: u64,
}

/// A collection's size in one snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CollectionSize {
    /// Elements, properties or table slots, counted through its own storage.
    pub entries: u64,
    /// Its own size with its storage folded in (grows as an array of numbers grows).
    pub self_size: u64,
    pub retained: u64,
}

/// Headline numbers of one snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotInfo {
    pub file: String,
    pub nodes: u64,
    pub total_size: u64,
    pub reachable_size: u64,
}

/// Everything measured in one snapshot.
pub struct Facts {
    pub info: SnapshotInfo,
    /// All node ids, sorted (membership tells old from new objects).
    pub ids: Vec<u32>,
    /// Per anchored key (see [`AnchoredKeys`]): objects and the bytes they retain.
    pub populations: HashMap<u64, Population>,
    /// Collections of at least [`MIN_COLLECTION_ENTRIES`] entries, by node id.
    pub collections: HashMap<u32, CollectionSize>,
    /// What tells this process's objects from another's.
    pub fingerprints: Fingerprints,
}

/// Collections smaller than this are not tracked for growth on their own (their members are).
pub const MIN_COLLECTION_ENTRIES: u64 = 16;

/// Objects that can be the subject of a leak: what the program allocates, not V8's own
/// bookkeeping (compiled code, maps, internal arrays), which grows as code warms up.
pub fn is_program_object(g: &HeapGraph, n: NodeIndex) -> bool {
    if is_storage(g, n) || g.self_size(n) == 0 {
        return false;
    }
    match g.node_type(n) {
        NodeType::Code | NodeType::ObjectShape | NodeType::Synthetic | NodeType::Number => false,
        NodeType::Object | NodeType::Native => {
            let name = g.node_name(n);
            !name.starts_with("system / ") || name == "system / Context"
        }
        _ => true,
    }
}

/// Entries of a collection: its element and property edges, plus those of the storage it
/// points at (a Map's hash table, an array's elements, an object's property dictionary).
/// For an array of numbers (see [`numbers_store`]), the slots of its store.
pub fn entries(g: &HeapGraph, n: NodeIndex) -> u64 {
    if let Some(store) = numbers_store(g, n) {
        // Folded into its array (as DevTools does), the store's bytes are the array's
        // beyond the array object itself.
        const ARRAY_OBJECT: u64 = 32;
        const STORE_HEADER: u64 = 16;
        let bytes = match g.self_size(store) {
            0 => g.self_size(n).saturating_sub(ARRAY_OBJECT),
            own => own,
        };
        return bytes.saturating_sub(STORE_HEADER) / 8;
    }
    let mut total = entry_edges(g, n);
    for e in g.edges_of(n) {
        let w = g.edge_target(e);
        if g.edge_type(e) == EdgeType::Internal && w != n && is_storage(g, w) {
            total += entry_edges(g, w);
        }
    }
    total
}

fn entry_edges(g: &HeapGraph, v: NodeIndex) -> u64 {
    g.edges_of(v)
        .filter(|&e| match g.edge_type(e) {
            EdgeType::Element => true,
            EdgeType::Property => g.edge_name(e) != Some("__proto__"),
            _ => false,
        })
        .count() as u64
}

/// The elements store of an array that holds only small integers or doubles. V8 keeps those
/// numbers inside the store itself (8 bytes a slot) and the snapshot shows no edge for them,
/// so such an array's size is all there is to read: its capacity, which V8 grows by half
/// again whenever it is full.
pub fn numbers_store(g: &HeapGraph, n: NodeIndex) -> Option<NodeIndex> {
    if entry_edges(g, n) > 0 {
        return None;
    }
    let mut store = None;
    for e in g.edges_of(n) {
        let w = g.edge_target(e);
        if g.edge_type(e) != EdgeType::Internal || w == n || !is_storage(g, w) {
            continue;
        }
        if entry_edges(g, w) > 0 {
            return None;
        }
        if g.edge_name(e) == Some("elements") {
            store = Some(w);
        }
    }
    store
}

impl Facts {
    pub fn measure(file: PathBuf, a: &Analysis, keys: &AnchoredKeys) -> Facts {
        let g = &a.graph;
        let mut ids = g.node_ids().to_vec();
        ids.sort_unstable();
        let mut populations: HashMap<u64, Population> = HashMap::new();
        let mut collections = HashMap::new();
        let idom = &a.dominators.idom;
        let mut nested = Vec::new();
        for n in 0..g.node_count() as NodeIndex {
            if a.distances.distance[n as usize] == NO_DISTANCE || !is_program_object(g, n) {
                continue;
            }
            let key = keys.of_node[n as usize];
            let p = populations.entry(key).or_default();
            let d = idom[n as usize];
            // An object nested under another of its group is in that one's bytes already.
            if keys.of_node[d as usize] != key {
                p.count += 1;
                p.bytes += a.dominators.retained[n as usize];
            } else {
                nested.push(n);
            }
            let k = entries(g, n);
            if k >= MIN_COLLECTION_ENTRIES {
                collections.insert(
                    g.node_id(n),
                    CollectionSize {
                        entries: k,
                        self_size: g.self_size(n),
                        retained: a.dominators.retained[n as usize],
                    },
                );
            }
        }
        // Unless it is the next link of a chain, which counts on its own.
        let links = ChainLinks::new(g, idom, &nested);
        for n in nested {
            if links.is_link(n) {
                populations
                    .entry(keys.of_node[n as usize])
                    .or_default()
                    .count += 1;
            }
        }
        let totals = leakhunt_engine::summary::Totals::of(g, &a.dominators);
        Facts {
            info: SnapshotInfo {
                file: file.display().to_string(),
                nodes: totals.nodes,
                total_size: totals.total_size,
                reachable_size: totals.reachable_size,
            },
            ids,
            populations,
            collections,
            fingerprints: Fingerprints::of(g),
        }
    }

    pub fn has_id(&self, id: u32) -> bool {
        self.ids.binary_search(&id).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhunt_engine::{AnalysisOptions, GraphBuilder};

    /// The population counted for the group of `member`.
    fn population_of(build: impl FnOnce(&mut GraphBuilder) -> NodeIndex) -> Population {
        let mut b = GraphBuilder::new();
        let member = build(&mut b);
        let a = Analysis::new(b.build(), &AnalysisOptions::default());
        let keys = AnchoredKeys::compute(&a);
        let facts = Facts::measure("t".into(), &a, &keys);
        facts.populations[&keys.of_node[member as usize]]
    }

    #[test]
    fn a_part_of_the_same_class_counts_with_its_owner() {
        // Three sessions in an array, each with a `prefs` object of the same class.
        let p = population_of(|b| {
            let list = b.node(NodeType::Object, "Array", 16);
            b.edge(b.root(), EdgeType::Element, "0", list);
            let mut first = 0;
            for i in 0..3 {
                let session = b.node(NodeType::Object, "Session", 40);
                let prefs = b.node(NodeType::Object, "Session", 24);
                b.edge(list, EdgeType::Element, &i.to_string(), session);
                b.edge(session, EdgeType::Property, "prefs", prefs);
                first = session;
            }
            first
        });
        assert_eq!(
            p,
            Population {
                count: 3,
                bytes: 3 * 64
            }
        );
    }

    #[test]
    fn every_link_of_a_chain_counts() {
        // head → next → next → next: a singly linked list of four.
        let p = population_of(|b| {
            let list = b.node(NodeType::Object, "Queue", 16);
            b.edge(b.root(), EdgeType::Element, "0", list);
            let head = b.node(NodeType::Object, "Job", 32);
            b.edge(list, EdgeType::Property, "head", head);
            let mut last = head;
            for _ in 0..3 {
                let job = b.node(NodeType::Object, "Job", 32);
                b.edge(last, EdgeType::Property, "next", job);
                last = job;
            }
            head
        });
        assert_eq!(
            p,
            Population {
                count: 4,
                bytes: 4 * 32
            }
        );
    }
}
