//! What the diagnosis measures in every snapshot of a ladder, so that only the last one's
//! graph has to stay in memory.

use std::path::PathBuf;

use leakhunt_engine::bitset::BitSet;
use leakhunt_engine::distances::NO_DISTANCE;
use leakhunt_engine::fold::is_storage;
use leakhunt_engine::graph::{EdgeType, HeapGraph, NodeIndex, NodeType};
use leakhunt_engine::Analysis;
pub use leakhunt_findings::SnapshotInfo;

use super::anchors::AnchoredKeys;
use super::chain::ChainLinks;
use super::entries::EntryCounter;
use crate::hash::FastMap;
use crate::identity::Fingerprints;

/// Count and retained bytes of the objects that accumulate in one place.
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

/// Populations by anchored key, sorted by key: 24 bytes a key, where a hash map takes half
/// as much again (the earlier snapshots of a ladder keep theirs, millions of keys each, while
/// the next one is read). A key absent is a population of zero.
#[derive(Debug, Default)]
pub struct Populations(Vec<(u64, Population)>);

impl Populations {
    fn from_map(map: FastMap<u64, Population>) -> Populations {
        let mut v: Vec<(u64, Population)> = map
            .into_iter()
            .filter(|(_, p)| *p != Population::default())
            .collect();
        v.sort_unstable_by_key(|&(k, _)| k);
        Populations(v)
    }

    pub fn get(&self, key: &u64) -> Option<&Population> {
        let i = self.0.binary_search_by_key(key, |&(k, _)| k).ok()?;
        Some(&self.0[i].1)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Everything measured in one snapshot.
pub struct Facts {
    pub info: SnapshotInfo,
    /// All node ids, sorted (membership tells old from new objects).
    pub ids: Vec<u32>,
    /// Per anchored key (see [`AnchoredKeys`]): objects and the bytes they retain.
    pub populations: Populations,
    /// Collections of at least [`MIN_COLLECTION_ENTRIES`] entries, by node id.
    pub collections: FastMap<u32, CollectionSize>,
    /// What tells this process's objects from another's.
    pub fingerprints: Fingerprints,
}

/// Collections smaller than this are not tracked for growth on their own (their members are).
pub const MIN_COLLECTION_ENTRIES: u64 = 16;

/// Objects that can be the subject of a leak: what the program allocates, not V8's own
/// bookkeeping (compiled code, maps, internal arrays), which grows as code warms up.
pub struct ProgramObjects<'a> {
    a: &'a Analysis,
    /// Per class: V8's own objects (`system / …`, except scopes).
    bookkeeping: Vec<bool>,
}

impl<'a> ProgramObjects<'a> {
    pub fn new(a: &'a Analysis) -> ProgramObjects<'a> {
        // Object and native nodes group by their name, which is the class name for these.
        let bookkeeping = (0..a.classes.len() as u32)
            .map(|c| {
                let name = a.classes.name(c);
                name.starts_with("system / ") && name != "system / Context"
            })
            .collect();
        ProgramObjects { a, bookkeeping }
    }

    pub fn contains(&self, n: NodeIndex) -> bool {
        let g = &self.a.graph;
        if is_storage(g, n) || g.self_size(n) == 0 {
            return false;
        }
        match g.node_type(n) {
            NodeType::Code | NodeType::ObjectShape | NodeType::Synthetic | NodeType::Number => {
                false
            }
            NodeType::Object | NodeType::Native => {
                !self.bookkeeping[self.a.classes.class_of(g, n) as usize]
            }
            _ => true,
        }
    }
}

/// Adds a run of one key's counts to the populations.
fn add_run(populations: &mut FastMap<u64, Population>, run: Option<(u64, Population)>) {
    if let Some((key, p)) = run {
        let total = populations.entry(key).or_default();
        total.count += p.count;
        total.bytes += p.bytes;
    }
}

/// The elements store of an array of numbers (see [`EntryCounter::numbers_store`]).
pub fn numbers_store(g: &HeapGraph, n: NodeIndex) -> Option<NodeIndex> {
    EntryCounter::new(g).numbers_store(n)
}

/// What collections hold themselves, found in one pass over the edges.
struct Entries {
    /// Collections: internal storage (a Map's hash table, an array's elements) and objects
    /// with elements (an array whose store the snapshot folds into it).
    indexed: BitSet,
    /// Nodes their immediate dominator refers to itself.
    held: BitSet,
}

impl Entries {
    fn of(a: &Analysis) -> Entries {
        let g = &a.graph;
        let idom = &a.dominators.idom;
        let mut indexed = BitSet::new(g.node_count());
        let mut held = BitSet::new(g.node_count());
        for v in 0..g.node_count() as NodeIndex {
            if is_storage(g, v) {
                indexed.set(v);
            }
            for e in g.edges_of(v) {
                let w = g.edge_target(e);
                if g.edge_type(e) == EdgeType::Element {
                    indexed.set(v);
                }
                if idom[w as usize] == v {
                    held.set(w);
                }
            }
        }
        Entries { indexed, held }
    }
}

impl Facts {
    pub fn measure(file: PathBuf, a: &Analysis, keys: &AnchoredKeys) -> Facts {
        let g = &a.graph;
        let mut ids = g.node_ids().to_vec();
        ids.sort_unstable();
        let mut populations: FastMap<u64, Population> = FastMap::default();
        let mut collections = FastMap::default();
        let idom = &a.dominators.idom;
        let mut nested = Vec::new();
        let program = ProgramObjects::new(a);
        let mut counter = EntryCounter::new(g);
        let mut run: Option<(u64, Population)> = None;
        let entries = Entries::of(a);
        for n in 0..g.node_count() as NodeIndex {
            if a.distances.distance[n as usize] == NO_DISTANCE || !program.contains(n) {
                continue;
            }
            let key = keys.of_node[n as usize];
            // Members of one collection lie side by side in the snapshot: add up a run of
            // one key before looking it up in the map.
            if run.map(|r| r.0) != Some(key) {
                add_run(&mut populations, run);
                run = Some((key, Population::default()));
            }
            let counted = &mut run.as_mut().expect("a run").1;
            let d = idom[n as usize];
            // An object nested under another of its group is in that one's bytes already.
            if keys.of_node[d as usize] != key {
                // Under a collection, only what it holds itself is an entry; what it
                // dominates beyond (a socket several entries' callbacks share) is part of
                // the entries' bytes, not one more of them. The roots are no collection:
                // what only they dominate (Node's timer lists, in its timer map and its
                // queue at once) counts under the holder it is anchored to.
                if d == HeapGraph::ROOT || !entries.indexed.get(d) || entries.held.get(n) {
                    counted.count += 1;
                }
                counted.bytes += a.dominators.retained[n as usize];
            } else {
                nested.push(n);
            }
            let k = counter.entries(n);
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
        add_run(&mut populations, run);
        // Unless it is the next link of a chain, which counts on its own.
        let mut links = ChainLinks::new(g, idom, &nested);
        let is_top =
            |x: NodeIndex| keys.of_node[idom[x as usize] as usize] != keys.of_node[x as usize];
        for n in nested {
            let link = if g.node_type(n).is_string() {
                links.is_string_link(n, is_top)
            } else {
                links.is_link(n)
            };
            if link {
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
            populations: Populations::from_map(populations),
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
        facts
            .populations
            .get(&keys.of_node[member as usize])
            .copied()
            .unwrap_or_default()
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
    fn a_string_appended_to_counts_its_appends_not_its_pieces() {
        // log = ((s0 + l1) + l2) + l3, each line itself a template's concatenations.
        let p = population_of(|b| {
            let scope = b.node(NodeType::Object, "system / Context", 16);
            b.edge(b.root(), EdgeType::Element, "0", scope);
            let mut log = b.node(NodeType::String, "started\n", 24);
            for i in 0..3 {
                let words = b.node(NodeType::ConsString, "GET /a", 32);
                let a = b.node(NodeType::String, &format!("GET{i}"), 20);
                let c = b.node(NodeType::String, &format!("/a{i}"), 20);
                b.edge(words, EdgeType::Internal, "first", a);
                b.edge(words, EdgeType::Internal, "second", c);
                let line = b.node(NodeType::ConsString, "GET /a\n", 32);
                let nl = b.node(NodeType::String, &format!("\n{i}"), 20);
                b.edge(line, EdgeType::Internal, "first", words);
                b.edge(line, EdgeType::Internal, "second", nl);
                let next = b.node(NodeType::ConsString, "started", 32);
                b.edge(next, EdgeType::Internal, "first", log);
                b.edge(next, EdgeType::Internal, "second", line);
                log = next;
            }
            b.edge(scope, EdgeType::Context, "log", log);
            log
        });
        // The top and the three strings below it: one per append (and the one it started as).
        assert_eq!(p.count, 4);
    }

    #[test]
    fn what_entries_share_is_not_one_more_entry() {
        // Three callbacks in an array's elements, each capturing one socket they share: the
        // socket is dominated by the elements store, but it is not an entry.
        let p = population_of(|b| {
            let list = b.node(NodeType::Object, "Array", 16);
            b.edge(b.root(), EdgeType::Element, "0", list);
            let store = b.node(NodeType::Array, "(object elements)", 64);
            b.edge(list, EdgeType::Internal, "elements", store);
            let socket = b.node(NodeType::Closure, "onData", 100);
            let mut first = 0;
            for i in 0..3 {
                let retry = b.node(NodeType::Closure, "retry", 32);
                let scope = b.node(NodeType::Object, "system / Context", 16);
                b.edge(store, EdgeType::Element, &i.to_string(), retry);
                b.edge(retry, EdgeType::Internal, "context", scope);
                b.edge(scope, EdgeType::Context, "socket", socket);
                first = retry;
            }
            first
        });
        assert_eq!(p.count, 3);
        assert_eq!(p.bytes, 3 * (32 + 16) + 100);
    }

    #[test]
    fn what_the_elements_of_an_array_share_is_not_one_more_element() {
        // The same with the elements folded into the array, as some snapshots show them.
        let p = population_of(|b| {
            let list = b.node(NodeType::Object, "Array", 16);
            b.edge(b.root(), EdgeType::Element, "0", list);
            let bound = b.node(NodeType::Closure, "native_bind", 100);
            let mut first = 0;
            for i in 0..3 {
                let retry = b.node(NodeType::Closure, "retry", 32);
                let scope = b.node(NodeType::Object, "system / Context", 16);
                b.edge(list, EdgeType::Element, &i.to_string(), retry);
                b.edge(retry, EdgeType::Internal, "context", scope);
                b.edge(scope, EdgeType::Context, "onTimeout", bound);
                first = retry;
            }
            first
        });
        assert_eq!(p.count, 3);
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
