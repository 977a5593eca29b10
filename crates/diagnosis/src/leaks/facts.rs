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
pub fn entries(g: &HeapGraph, n: NodeIndex) -> u64 {
    let count = |v: NodeIndex| {
        g.edges_of(v)
            .filter(|&e| matches!(g.edge_type(e), EdgeType::Element | EdgeType::Property))
            .count() as u64
    };
    let mut total = count(n);
    for e in g.edges_of(n) {
        let w = g.edge_target(e);
        if g.edge_type(e) == EdgeType::Internal && w != n && is_storage(g, w) {
            total += count(w);
        }
    }
    total
}

impl Facts {
    pub fn measure(file: PathBuf, a: &Analysis, keys: &AnchoredKeys) -> Facts {
        let g = &a.graph;
        let mut ids = g.node_ids().to_vec();
        ids.sort_unstable();
        let mut populations: HashMap<u64, Population> = HashMap::new();
        let mut collections = HashMap::new();
        let idom = &a.dominators.idom;
        for n in 0..g.node_count() as NodeIndex {
            if a.distances.distance[n as usize] == NO_DISTANCE || !is_program_object(g, n) {
                continue;
            }
            let key = keys.of_node[n as usize];
            let p = populations.entry(key).or_default();
            p.count += 1;
            // An object nested under another of its group (a chain) is in its bytes already.
            if keys.of_node[idom[n as usize] as usize] != key {
                p.bytes += a.dominators.retained[n as usize];
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
