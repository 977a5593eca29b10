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
//! Strings of every representation count as one class here: V8 changes a string's kind
//! behind the program's back (a concatenated string read once is flattened, and the next
//! scavenge puts the flat copy where the concatenation was), so a cache of strings that
//! holds still would otherwise show flat strings growing at every step as concatenated ones
//! disappear.

use leakhunt_engine::fold::is_storage;
use leakhunt_engine::graph::{HeapGraph, NodeIndex};
use leakhunt_engine::Analysis;

use crate::hash::{hash_str, mix};

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
        while let Some(v) = stack.pop() {
            order.push(v);
            // Walk up through storage (its own anchor was already resolved the same way).
            let mut d = idom[v as usize];
            while d != HeapGraph::ROOT && is_storage(g, d) {
                d = idom[d as usize];
            }
            let cv = kind(v);
            // A chain of objects of one class (a linked list) shares the anchor of its head.
            let anc = if d != HeapGraph::ROOT && kind(d) == cv {
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

    /// A list (id 501) holding one string of kind `t` (id 601) made of two pieces.
    fn string_key(t: NodeType) -> u64 {
        let mut b = GraphBuilder::new();
        let global = b.node(NodeType::Object, "global", 10);
        b.edge(b.root(), EdgeType::Shortcut, "global", global);
        let list = b.node_with_id(NodeType::Object, "Array", 32, 501);
        b.edge(global, EdgeType::Property, "headlines", list);
        let s = b.node_with_id(t, "Breaking: story", 32, 601);
        b.edge(list, EdgeType::Element, "0", s);
        if t == NodeType::ConsString {
            for (i, part) in ["first", "second"].into_iter().enumerate() {
                let piece = b.node_with_id(NodeType::String, "piece", 24, 603 + 2 * i as u32);
                b.edge(s, EdgeType::Internal, part, piece);
            }
        }
        let a = Analysis::new(b.build(), &AnalysisOptions::default());
        let keys = AnchoredKeys::compute(&a);
        let n = a.graph.node_by_id(601).unwrap();
        assert_eq!(a.graph.node_id(keys.anchor[n as usize]), 501);
        // A concatenation's pieces are parts of it, keyed with it.
        if t == NodeType::ConsString {
            let piece = a.graph.node_by_id(603).unwrap();
            assert_eq!(keys.of_node[piece as usize], keys.of_node[n as usize]);
        }
        keys.of_node[n as usize]
    }

    #[test]
    fn strings_of_every_kind_share_a_key() {
        // V8 flattens a concatenated string in place and a scavenge swaps the flat copy in:
        // the same entry, another kind.
        let flat = string_key(NodeType::String);
        assert_eq!(string_key(NodeType::ConsString), flat);
        assert_eq!(string_key(NodeType::SlicedString), flat);
    }
}
