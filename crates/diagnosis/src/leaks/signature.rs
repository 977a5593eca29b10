//! Path signatures: a hash of "how an object is held", the same for every object held the
//! same way and the same in every snapshot of the process.
//!
//! An object's signature hashes its class and the chain of steps from the root along its
//! shortest retainer path, each step being (edge, holder's class). Steps are written so that
//! they do not depend on which member of a collection an object is: element indices become
//! `[]`, and so do the keys of objects V8 keeps as dictionaries (see [`Keys`]). A step repeated
//! along a chain (`._idleNext` from a Timeout to a Timeout …) counts once, so the thousandth
//! timer in a list is held "the same way" as the first.

use leakhunt_engine::graph::{EdgeType, HeapGraph, NodeIndex};
use leakhunt_engine::retainers::edge_source;
use leakhunt_engine::Analysis;

use crate::hash::{hash_str, mix};

/// Per-node signatures of one snapshot (0 for nodes no path reaches).
pub struct Signatures {
    pub of_node: Vec<u64>,
}

/// How object keys are treated: V8 stores an object with many or irregular keys as a
/// dictionary; its property names are then data (user ids, request ids), not structure.
pub(crate) fn is_dictionary_holder(g: &HeapGraph, h: NodeIndex) -> bool {
    // V8 switches an object to dictionary mode beyond a few dozen added properties or after
    // deletes; either way it then has many property edges of its own. Counting them is what
    // the snapshot lets us see.
    const DICTIONARY_KEYS: usize = 32;
    g.edges_of(h)
        .filter(|&e| g.edge_type(e) == EdgeType::Property)
        .take(DICTIONARY_KEYS)
        .count()
        >= DICTIONARY_KEYS
}

/// Hashes of edge names, computed the first time each name is met (most strings are string
/// contents, never edge names).
struct NameHashes {
    hashes: Vec<u64>,
}

impl NameHashes {
    fn of(&mut self, g: &HeapGraph, index: u32) -> u64 {
        let slot = &mut self.hashes[index as usize];
        if *slot == 0 {
            *slot = hash_str(g.string(index)) | 1;
        }
        *slot
    }
}

/// Hash of an edge as a step of a path (see the module docs).
fn edge_key(
    g: &HeapGraph,
    e: u32,
    holder: NodeIndex,
    names: &mut NameHashes,
    dict: &mut DictCache,
) -> u64 {
    let t = g.edge_type(e);
    let kind = t as u64 + 1;
    match t {
        EdgeType::Element | EdgeType::Hidden => mix(kind, 0),
        EdgeType::Property if dict.is_dictionary(g, holder) => mix(kind, 1),
        EdgeType::Internal => {
            let name = g.edge_name(e).unwrap_or("");
            // Internal names that embed ids or counters (WeakMap pairs, numbered slots) vary
            // between equivalent holders.
            if name.contains('@') || name.starts_with(|c: char| c.is_ascii_digit()) {
                mix(kind, 2)
            } else {
                mix(kind, names.of(g, g.edge_name_or_index(e)))
            }
        }
        _ => mix(kind, names.of(g, g.edge_name_or_index(e))),
    }
}

/// Remembers which holders are dictionaries (asked once per holder, not once per key).
struct DictCache {
    last: Option<(NodeIndex, bool)>,
}

impl DictCache {
    fn is_dictionary(&mut self, g: &HeapGraph, h: NodeIndex) -> bool {
        if let Some((node, answer)) = self.last {
            if node == h {
                return answer;
            }
        }
        let answer = is_dictionary_holder(g, h);
        self.last = Some((h, answer));
        answer
    }
}

impl Signatures {
    /// Computes every node's signature; needs an analysis with retainer paths.
    pub fn compute(a: &Analysis) -> Signatures {
        assert!(
            a.distances.has_paths(),
            "signatures need AnalysisOptions::retainer_paths"
        );
        let g = &a.graph;
        let mut names = NameHashes {
            hashes: vec![0; g.strings().len()],
        };
        let class_hash: Vec<u64> = (0..a.classes.len() as u32)
            .map(|c| hash_str(a.classes.name(c)))
            .collect();
        let class_of = |n: NodeIndex| class_hash[a.classes.class_of(g, n) as usize];
        let n = g.node_count();
        let mut prefix = vec![0u64; n];
        let mut step = vec![0u64; n];
        let mut of_node = vec![0u64; n];
        prefix[HeapGraph::ROOT as usize] = 0x9e37_79b9_7f4a_7c15;
        let mut dict = DictCache { last: None };
        for &v in a.distances.order() {
            let Some(e) = a.distances.parent_edge(v) else {
                continue;
            };
            let h = edge_source(g, e);
            let s = mix(edge_key(g, e, h, &mut names, &mut dict), class_of(h));
            let p = if s == step[h as usize] && class_of(v) == class_of(h) {
                prefix[h as usize] // a repeated hop along a chain counts once
            } else {
                mix(prefix[h as usize], s)
            };
            prefix[v as usize] = p;
            step[v as usize] = s;
            of_node[v as usize] = mix(p, class_of(v));
        }
        Signatures { of_node }
    }
}

/// Per node, the key objects are grouped and counted by across snapshots: the object's class
/// together with the signature of its *anchor*, the nearest object above it in the dominator
/// tree that is neither internal storage nor of the object's own class.
///
/// Counting "Sessions under this Map", "closures under this listener array", "Timeouts under
/// this timer list" is robust where whole paths are not: a linked list is reached from either
/// end, and the thousandth element's path differs from the first's, but all of them sit
/// under the same list head.
pub struct AnchoredKeys {
    pub of_node: Vec<u64>,
    /// Per node: its anchor (root for nodes without one).
    pub anchor: Vec<NodeIndex>,
    /// Per node: its anchor's path signature (what groups under one collection share).
    pub anchor_signature: Vec<u64>,
    /// Nodes with every dominator before its children (the order they were computed in).
    pub order: Vec<NodeIndex>,
}

impl AnchoredKeys {
    pub fn compute(a: &Analysis, sigs: &Signatures) -> AnchoredKeys {
        let g = &a.graph;
        let n = g.node_count();
        let class_hash: Vec<u64> = (0..a.classes.len() as u32)
            .map(|c| hash_str(a.classes.name(c)))
            .collect();
        let mut anchor = vec![HeapGraph::ROOT; n];
        let mut of_node = vec![0u64; n];
        let mut anchor_signature = vec![0u64; n];
        let children = a.dominators.children();
        let mut stack: Vec<NodeIndex> = children.of(HeapGraph::ROOT).to_vec();
        let idom = &a.dominators.idom;
        let mut order = Vec::with_capacity(n);
        while let Some(v) = stack.pop() {
            order.push(v);
            // Walk up through storage (its own anchor was already resolved the same way).
            let mut d = idom[v as usize];
            while d != HeapGraph::ROOT && leakhunt_engine::fold::is_storage(g, d) {
                d = idom[d as usize];
            }
            let cv = a.classes.class_of(g, v);
            let anc = if d != HeapGraph::ROOT && a.classes.class_of(g, d) == cv {
                anchor[d as usize]
            } else {
                d
            };
            anchor[v as usize] = anc;
            anchor_signature[v as usize] = sigs.of_node[anc as usize];
            of_node[v as usize] = mix(class_hash[cv as usize], sigs.of_node[anc as usize]);
            stack.extend_from_slice(children.of(v));
        }
        AnchoredKeys {
            of_node,
            anchor,
            anchor_signature,
            order,
        }
    }
}
