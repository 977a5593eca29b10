//! Anchors: what the objects of a leak accumulate under.
//!
//! An object's *anchor* is the nearest object above it in the dominator tree that is
//! neither internal storage nor of the object's own class: the listener array above listener
//! closures, the Map above its values (through its hash table), the timer list above a chain
//! of Timeouts. Objects are grouped and counted across snapshots by their class together
//! with their anchor's node id: V8 keeps ids stable within a process, and a long-lived
//! collection keeps its id while it grows, however the paths to it change from one snapshot
//! to the next (a linked list is reached from either end, a module scope through whichever
//! closure the search met first).
//!
//! Objects that no single object dominates, though no root holds them either, would have
//! only the root above them: Node's timer lists, kept both in `timerListMap` and in the
//! `timerListQueue` heap, which two of Node's modules reach from their own scopes. Such an
//! object is anchored under its nearest holder instead (see [`shared_holders`]).
//!
//! Strings of every representation count as one class here: V8 changes a string's kind
//! behind the program's back (a concatenated string read once is flattened, and the next
//! scavenge puts the flat copy where the concatenation was), so a cache of strings that
//! holds still would otherwise show flat strings growing at every step as concatenated ones
//! disappear.

use leakhunt_engine::distances::NO_DISTANCE;
use leakhunt_engine::fold::is_storage;
use leakhunt_engine::graph::{EdgeType, HeapGraph, NodeIndex, NodeType};
use leakhunt_engine::Analysis;

use crate::hash::{hash_str, mix, FastMap};

pub struct AnchoredKeys {
    /// Per node: hash of its class and its anchor's id.
    pub of_node: Vec<u64>,
    /// Per node: its anchor (the root for nodes without one).
    pub anchor: Vec<NodeIndex>,
    /// Nodes with every dominator before its children (the order they were computed in).
    pub order: Vec<NodeIndex>,
}

impl AnchoredKeys {
    pub fn compute(a: &Analysis) -> AnchoredKeys {
        let g = &a.graph;
        let n = g.node_count();
        let mut class_hash: Vec<u64> = (0..a.classes.len() as u32)
            .map(|c| hash_str(a.classes.name(c)))
            .collect();
        class_hash.push(hash_str(STRINGS));
        let kind = |v: NodeIndex| growth_class(a, v);
        let mut anchor = vec![HeapGraph::ROOT; n];
        let mut of_node = vec![0u64; n];
        let children = a.dominators.children();
        let mut stack: Vec<NodeIndex> = children.of(HeapGraph::ROOT).to_vec();
        let idom = &a.dominators.idom;
        let mut order = Vec::with_capacity(n);
        let shared = shared_holders(a);
        while let Some(v) = stack.pop() {
            order.push(v);
            // Walk up through storage (its own anchor was already resolved the same way).
            let mut d = idom[v as usize];
            while d != HeapGraph::ROOT && is_storage(g, d) {
                d = idom[d as usize];
            }
            let cv = kind(v);
            // A chain of objects of one class (a linked list) shares the anchor of its head.
            let anc = if d == HeapGraph::ROOT {
                shared.get(&v).copied().unwrap_or(d)
            } else if kind(d) == cv {
                anchor[d as usize]
            } else {
                d
            };
            anchor[v as usize] = anc;
            of_node[v as usize] = mix(class_hash[cv as usize], g.node_id(anc) as u64);
            stack.extend_from_slice(children.of(v));
        }
        AnchoredKeys {
            of_node,
            anchor,
            order,
        }
    }
}

/// For each object only the root dominates although no root holds it (several holders that
/// no one object dominates): its holder nearest the roots, past storage, fewest hops first
/// and then the lowest id, so that every snapshot of a process picks the same one. Strings
/// are left out: the string table holds every interned one, and a dictionary's keys are
/// its own growth. One pass over the edges.
fn shared_holders(a: &Analysis) -> FastMap<NodeIndex, NodeIndex> {
    let g = &a.graph;
    let idom = &a.dominators.idom;
    let distance = &a.distances.distance;
    // `None` once a root (or a synthetic root group) is found holding it.
    let mut best: FastMap<NodeIndex, Option<NodeIndex>> = FastMap::default();
    for s in 0..g.node_count() as NodeIndex {
        let from_root = s == HeapGraph::ROOT || g.node_type(s) == NodeType::Synthetic;
        for e in g.edges_of(s) {
            let t = g.edge_target(e);
            if idom[t as usize] != HeapGraph::ROOT
                || matches!(g.edge_type(e), EdgeType::Weak | EdgeType::Shortcut)
                || g.node_type(t).is_string()
                || g.node_type(t) == NodeType::Synthetic
                || distance[t as usize] == NO_DISTANCE
            {
                continue;
            }
            if from_root {
                best.insert(t, None);
                continue;
            }
            let mut h = s;
            while h != HeapGraph::ROOT && is_storage(g, h) {
                h = idom[h as usize];
            }
            if h == HeapGraph::ROOT || h == t || distance[h as usize] == NO_DISTANCE {
                continue;
            }
            let rank = |x: NodeIndex| (distance[x as usize], g.node_id(x));
            match best.entry(t).or_insert(Some(h)) {
                Some(b) if rank(h) < rank(*b) => *b = h,
                _ => {}
            }
        }
    }
    best.into_iter()
        .filter_map(|(t, h)| Some((t, h?)))
        .collect()
}

/// The name strings of every representation are keyed by.
const STRINGS: &str = "(string)";

/// The class objects are grouped by: their class, except that every kind of string is one
/// (numbered one past the last class).
fn growth_class(a: &Analysis, v: NodeIndex) -> u32 {
    if a.graph.node_type(v).is_string() {
        a.classes.len() as u32
    } else {
        a.classes.class_of(&a.graph, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhunt_engine::{AnalysisOptions, EdgeType, GraphBuilder, NodeType};

    /// A global holding a listener array (id 501) with two closures, reached directly or
    /// through an extra object: the path differs, the anchor does not.
    fn keys(extra_hop: bool) -> (AnchoredKeys, Analysis) {
        let mut b = GraphBuilder::new();
        let global = b.node(NodeType::Object, "global", 10);
        b.edge(b.root(), EdgeType::Shortcut, "global", global);
        let holder = if extra_hop {
            let o = b.node(NodeType::Object, "Registry", 10);
            b.edge(global, EdgeType::Property, "registry", o);
            o
        } else {
            global
        };
        let list = b.node_with_id(NodeType::Object, "Array", 32, 501);
        b.edge(holder, EdgeType::Property, "listeners", list);
        for i in 0..2 {
            let f = b.node_with_id(NodeType::Closure, "onEvent", 32, 601 + 2 * i);
            b.edge(list, EdgeType::Element, &i.to_string(), f);
        }
        let a = Analysis::new(b.build(), &AnalysisOptions::default());
        (AnchoredKeys::compute(&a), a)
    }

    #[test]
    fn objects_are_keyed_by_class_and_anchor_id_whatever_the_path() {
        let (k1, a1) = keys(false);
        let (k2, a2) = keys(true);
        let closure_key = |k: &AnchoredKeys, a: &Analysis| {
            let n = a.graph.node_by_id(601).unwrap();
            assert_eq!(a.graph.node_id(k.anchor[n as usize]), 501);
            k.of_node[n as usize]
        };
        assert_eq!(closure_key(&k1, &a1), closure_key(&k2, &a2));
        // Both closures of the list share the key.
        let other = a1.graph.node_by_id(603).unwrap();
        assert_eq!(k1.of_node[other as usize], closure_key(&k1, &a1));
    }

    #[test]
    fn objects_two_unrelated_holders_keep_are_anchored_under_the_nearer_one() {
        // Node's timer lists: in `timerListMap` (id 501) and in the queue's heap (id 502),
        // which two module scopes reach, each from a root of its own.
        let mut b = GraphBuilder::new();
        let scope = |b: &mut GraphBuilder, name: &str| {
            let global = b.node(NodeType::Object, "global", 10);
            b.edge(b.root(), EdgeType::Shortcut, name, global);
            let scope = b.node(NodeType::Object, "system / Context", 10);
            b.edge(global, EdgeType::Property, name, scope);
            scope
        };
        let timers = scope(&mut b, "timers");
        let internal = scope(&mut b, "internal");
        let map = b.node_with_id(NodeType::Object, "Object", 32, 501);
        let heap = b.node_with_id(NodeType::Object, "Array", 32, 502);
        b.edge(timers, EdgeType::Context, "timerListMap", map);
        b.edge(internal, EdgeType::Context, "timerListMap", map);
        let store = b.node(NodeType::Array, "(object elements)", 64);
        b.edge(timers, EdgeType::Context, "timerListQueue", heap);
        b.edge(internal, EdgeType::Context, "timerListQueue", heap);
        b.edge(heap, EdgeType::Internal, "elements", store);
        let list = b.node_with_id(NodeType::Object, "TimersList", 40, 601);
        b.edge(map, EdgeType::Element, "60017", list);
        b.edge(store, EdgeType::Element, "0", list);
        let string = b.node_with_id(NodeType::String, "user:1", 16, 701);
        b.edge(map, EdgeType::Property, "key", string);
        b.edge(store, EdgeType::Element, "1", string);
        let a = Analysis::new(b.build(), &AnalysisOptions::default());
        let k = AnchoredKeys::compute(&a);
        let anchor_of = |id| {
            a.graph
                .node_id(k.anchor[a.graph.node_by_id(id).unwrap() as usize])
        };
        assert_eq!(
            a.dominators.idom[a.graph.node_by_id(601).unwrap() as usize],
            HeapGraph::ROOT
        );
        assert_eq!(anchor_of(601), 501);
        // Strings stay with the root: the string table keeps interned ones too.
        assert_eq!(
            k.anchor[a.graph.node_by_id(701).unwrap() as usize],
            HeapGraph::ROOT
        );
    }
}
