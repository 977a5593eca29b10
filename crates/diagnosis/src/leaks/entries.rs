//! Entries of collections: how many elements or properties an object holds, counted through
//! its own storage, for every object of a snapshot.

use leakhunt_engine::bitset::BitSet;
use leakhunt_engine::fold::is_storage;
use leakhunt_engine::graph::{EdgeIndex, EdgeType, HeapGraph, NodeIndex};

use crate::hash::FastMap;

/// Storage with at least this many edges has its entries counted once and remembered: V8
/// shares storage between objects (arrays made from one literal share its copy-on-write
/// elements), and counting a shared store again for each of its owners would be quadratic.
const REMEMBER_FROM_EDGES: u32 = 64;

/// Counts entries over one snapshot. Edge names are compared by their index in the string
/// table, each distinct name read once.
pub struct EntryCounter<'g> {
    g: &'g HeapGraph,
    /// Per string index: whether its text is known yet, and whether it is `__proto__` /
    /// `elements` / `table`.
    name_known: BitSet,
    is_proto: BitSet,
    is_elements: BitSet,
    is_table: BitSet,
    /// Entry edges of the large storage counted so far.
    large: FastMap<NodeIndex, u64>,
    /// Edges read (tests check the work stays linear in the graph's size).
    edges_read: u64,
}

impl<'g> EntryCounter<'g> {
    pub fn new(g: &'g HeapGraph) -> EntryCounter<'g> {
        let strings = g.strings().len();
        EntryCounter {
            g,
            name_known: BitSet::new(strings),
            is_proto: BitSet::new(strings),
            is_elements: BitSet::new(strings),
            is_table: BitSet::new(strings),
            large: FastMap::default(),
            edges_read: 0,
        }
    }

    /// Reads the text of edge `e`'s name once per distinct name.
    fn learn_name(&mut self, e: EdgeIndex) -> u32 {
        let i = self.g.edge_name_or_index(e);
        if !self.name_known.test_and_set(i) {
            match self.g.string(i) {
                "__proto__" => self.is_proto.set(i),
                "elements" => self.is_elements.set(i),
                "table" => self.is_table.set(i),
                _ => {}
            }
        }
        i
    }

    /// Element edges and property edges other than `__proto__`.
    fn entry_edges(&mut self, v: NodeIndex) -> u64 {
        let mut count = 0;
        for e in self.g.edges_of(v) {
            self.edges_read += 1;
            count += match self.g.edge_type(e) {
                EdgeType::Element => 1,
                EdgeType::Property => {
                    let name = self.learn_name(e);
                    u64::from(!self.is_proto.get(name))
                }
                _ => 0,
            };
        }
        count
    }

    /// [`Self::entry_edges`] of storage `w`, remembered when `w` is large.
    fn storage_entry_edges(&mut self, w: NodeIndex) -> u64 {
        if self.g.edges_of(w).len() < REMEMBER_FROM_EDGES as usize {
            return self.entry_edges(w);
        }
        if let Some(&k) = self.large.get(&w) {
            return k;
        }
        let k = self.entry_edges(w);
        self.large.insert(w, k);
        k
    }

    /// Entries of `n`: its element and property edges, plus those of the storage it points
    /// at (a Map's hash table, an array's elements, an object's property dictionary). For an
    /// array of numbers (see [`Self::numbers_store`]), the slots of its store.
    pub fn entries(&mut self, n: NodeIndex) -> u64 {
        let (total, store) = self.entries_or_numbers_store(n);
        let Some(store) = store else {
            return total;
        };
        // Folded into its array (as DevTools does), the store's bytes are the array's
        // beyond the array object itself.
        const ARRAY_OBJECT: u64 = 32;
        const STORE_HEADER: u64 = 16;
        let g = self.g;
        let bytes = match g.self_size(store) {
            0 => g.self_size(n).saturating_sub(ARRAY_OBJECT),
            own => own,
        };
        let words = bytes.saturating_sub(STORE_HEADER) / 8;
        match table_entry_words(g.node_name(n)) {
            // A Map's or Set's table: three words of counts, then a bucket per two entries,
            // then the entries, each its key (and value) and a link: its capacity, which V8
            // doubles whenever it is full.
            Some(entry) => words.saturating_sub(3) * 2 / (2 * entry + 1),
            None => words,
        }
    }

    /// The elements store of an array that holds only small integers or doubles, or the hash
    /// table of a Map or Set of small integers. V8 keeps those numbers inside the store
    /// itself (8 bytes a slot) and the snapshot shows no edge for them, so such a store's
    /// size is all there is to read: its capacity, which V8 grows (by half again for an
    /// array, double for a table) whenever it is full.
    pub fn numbers_store(&mut self, n: NodeIndex) -> Option<NodeIndex> {
        self.entries_or_numbers_store(n).1
    }

    /// Entry edges of `n` and of its storage, and its numbers store when it has one (then
    /// every one of those counts is zero).
    fn entries_or_numbers_store(&mut self, n: NodeIndex) -> (u64, Option<NodeIndex>) {
        let g = self.g;
        let own = self.entry_edges(n);
        let mut total = own;
        // The last storage reached by an `elements` edge, while no storage has entries.
        let mut store = None;
        for e in g.edges_of(n) {
            self.edges_read += 1;
            let w = g.edge_target(e);
            if g.edge_type(e) != EdgeType::Internal || w == n || !is_storage(g, w) {
                continue;
            }
            let name = self.learn_name(e);
            let table_words = if self.is_table.get(name) {
                table_entry_words(g.node_name(n))
            } else {
                None
            };
            let k = match table_words.and_then(|words| self.hash_table_entries(w, words)) {
                Some(k) => k,
                None => self.storage_entry_edges(w),
            };
            total += k;
            if self.is_elements.get(name)
                || (self.is_table.get(name)
                    && table_entry_words(g.node_name(n)).is_some()
                    && self.holds_only_numbers(w))
            {
                store = Some(w);
            }
        }
        if total > 0 {
            return (total, None);
        }
        (0, store)
    }

    /// The entries of a Map's or Set's hash table whose keys or values are objects. V8 shows
    /// them as the table's internal slots, named by their index, an entry's key and value
    /// side by side (then its chain link, a small integer without an edge): counting the
    /// edges would count a Map's entries twice, or once, depending on what its keys are.
    /// A slot right after the one before it is that entry's value. `None` when no slot is
    /// named by its index (not one of V8's tables).
    fn hash_table_entries(&mut self, table: NodeIndex, entry_words: u64) -> Option<u64> {
        let g = self.g;
        let mut entries = 0;
        let mut previous: Option<u64> = None;
        let mut named = false;
        for e in g.edges_of(table) {
            self.edges_read += 1;
            if g.edge_type(e) != EdgeType::Internal {
                continue;
            }
            let Some(slot) = g.edge_name(e).and_then(|n| n.parse::<u64>().ok()) else {
                continue;
            };
            named = true;
            // Only a Map's entries have a value beside the key.
            let value_of_previous = entry_words == 3 && previous.is_some_and(|p| p + 1 == slot);
            if !value_of_previous {
                entries += 1;
            }
            previous = Some(slot);
        }
        named.then_some(entries)
    }

    /// Whether a hash table refers to nothing but its own hidden class: every key and value
    /// in it is a small integer. (V8 shows a table's keys and values as internal slots.)
    fn holds_only_numbers(&mut self, table: NodeIndex) -> bool {
        let g = self.g;
        g.edges_of(table).all(|e| {
            self.edges_read += 1;
            g.edge_type(e) != EdgeType::Internal || g.edge_name(e) == Some("map")
        })
    }

    #[cfg(test)]
    fn edges_read(&self) -> u64 {
        self.edges_read
    }
}

/// Words per entry of the hash table of a `Map` (key, value, link) or `Set` (key, link):
/// V8's own classes, whose tables it lays out the same way in every version.
fn table_entry_words(class: &str) -> Option<u64> {
    match class {
        "Map" => Some(3),
        "Set" => Some(2),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhunt_engine::{GraphBuilder, NodeType};

    #[test]
    fn counts_elements_properties_and_storage_but_not_the_prototype() {
        let mut b = GraphBuilder::new();
        let map = b.node(NodeType::Object, "Map", 32);
        let table = b.node(NodeType::Array, "system / OrderedHashMap", 64);
        let proto = b.node(NodeType::Object, "Object", 16);
        b.edge(map, EdgeType::Property, "__proto__", proto);
        b.edge(map, EdgeType::Property, "size", proto);
        b.edge(map, EdgeType::Internal, "table", table);
        for i in 0..5 {
            let v = b.node(NodeType::Object, "V", 16);
            b.edge(table, EdgeType::Element, &i.to_string(), v);
        }
        let numbers = b.node(NodeType::Object, "Array", 32);
        let store = b.node(NodeType::Array, "(object elements)", 16 + 8 * 40);
        b.edge(numbers, EdgeType::Internal, "elements", store);
        let g = b.build();
        let mut c = EntryCounter::new(&g);
        assert_eq!(c.entries(map), 6);
        assert_eq!(c.numbers_store(map), None);
        assert_eq!(c.numbers_store(numbers), Some(store));
        assert_eq!(c.entries(numbers), 40);
    }

    #[test]
    fn a_map_or_set_of_small_integers_counts_its_tables_capacity() {
        // 300 integers: V8's table has room for 512 (256 buckets), and no edge for any.
        let mut b = GraphBuilder::new();
        let set = b.node(NodeType::Object, "Set", 32);
        let table = b.node(NodeType::Array, "", 16 + 8 * (3 + 256 + 512 * 2));
        b.edge(set, EdgeType::Internal, "table", table);
        let map = b.node(NodeType::Object, "Map", 32);
        let map_table = b.node(NodeType::Array, "", 16 + 8 * (3 + 256 + 512 * 3));
        b.edge(map, EdgeType::Internal, "table", map_table);
        // A Map of strings shows them as the table's internal slots: not a table of numbers.
        let names = b.node(NodeType::Object, "Map", 32);
        let names_table = b.node(NodeType::Array, "", 16 + 8 * (3 + 2 + 4 * 3));
        b.edge(names, EdgeType::Internal, "table", names_table);
        let name = b.node(NodeType::String, "ada", 16);
        b.edge(names_table, EdgeType::Internal, "5", name);
        let g = b.build();
        let mut c = EntryCounter::new(&g);
        assert_eq!(c.numbers_store(set), Some(table));
        assert_eq!(c.entries(set), 512);
        assert_eq!(c.entries(map), 512);
        assert_eq!(c.numbers_store(names), None);
    }

    #[test]
    fn a_maps_entries_are_counted_once_whatever_its_keys_and_values() {
        // V8 shows a table's keys and values as internal slots named by their index: 256
        // buckets, then entries of three words (key, value, link) from slot 3 + 256 on.
        // (Storage is folded into its owner: the table's own size reads 0.)
        let table_size = 0;
        let mut b = GraphBuilder::new();
        let both = b.node(NodeType::Object, "Map", 32);
        let both_table = b.node(NodeType::Array, "", table_size);
        b.edge(both, EdgeType::Internal, "table", both_table);
        let values_only = b.node(NodeType::Object, "Map", 32);
        let values_table = b.node(NodeType::Array, "", table_size);
        b.edge(values_only, EdgeType::Internal, "table", values_table);
        for i in 0..200u64 {
            let key_slot = 259 + 3 * i;
            let k = b.node(NodeType::String, "(concatenated string)", 32);
            let v = b.node(NodeType::Object, "Job", 48);
            b.edge(both_table, EdgeType::Internal, &key_slot.to_string(), k);
            b.edge(
                both_table,
                EdgeType::Internal,
                &(key_slot + 1).to_string(),
                v,
            );
            // A small-integer key has no edge: only the value shows.
            let v = b.node(NodeType::Object, "Job", 48);
            b.edge(
                values_table,
                EdgeType::Internal,
                &(key_slot + 1).to_string(),
                v,
            );
        }
        let g = b.build();
        let mut c = EntryCounter::new(&g);
        assert_eq!(c.entries(both), 200);
        assert_eq!(c.entries(values_only), 200);
    }

    #[test]
    fn storage_shared_by_many_objects_is_counted_once() {
        // 5,000 arrays made from one literal share its copy-on-write elements (5,000 entries):
        // counting them again for every array took 25 million reads.
        let mut b = GraphBuilder::new();
        let shared = b.node(NodeType::Array, "(object elements)", 16);
        for i in 0..5_000 {
            let v = b.node(NodeType::Object, "V", 16);
            b.edge(shared, EdgeType::Element, &i.to_string(), v);
        }
        let arrays: Vec<NodeIndex> = (0..5_000)
            .map(|_| {
                let a = b.node(NodeType::Object, "Array", 32);
                b.edge(a, EdgeType::Internal, "elements", shared);
                a
            })
            .collect();
        let g = b.build();
        let mut c = EntryCounter::new(&g);
        for &a in &arrays {
            assert_eq!(c.entries(a), 5_000);
        }
        let edges = g.edge_count() as u64;
        assert!(
            c.edges_read() <= 3 * edges,
            "{} edge reads for a graph of {edges} edges",
            c.edges_read()
        );
    }
}
