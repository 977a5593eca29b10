//! The heap graph, stored as flat columns.
//!
//! A heap snapshot of a 500 MB heap has over ten million nodes and tens of millions of edges, so
//! nothing here is an object per node: every attribute is a column (`Vec<u32>` or `Vec<u8>`)
//! indexed by a node's *ordinal* (its position in the snapshot's `nodes` array divided by the
//! record stride) or by an edge's ordinal. A node's outgoing edges are the contiguous range
//! `first_edge[n]..first_edge[n + 1]`, exactly as V8 lays them out.
//!
//! Cost per node: 17 bytes (type, name, id, self size, first edge); per edge: 9 bytes.

use crate::strings::StringTable;

/// Index of a node in the graph's columns (not its V8 id).
pub type NodeIndex = u32;
/// Index of an edge in the graph's columns.
pub type EdgeIndex = u32;

/// Declares a type enum from one table of variants and V8 names, with `ALL` (every value, in
/// discriminant order) and the name mappings. The packed columns below size their type bits
/// from `ALL.len()`, so adding a variant can never push a type into the neighbouring field.
macro_rules! v8_type_enum {
    (
        $(#[$attr:meta])*
        pub enum $name:ident { $($variant:ident = $v8:literal,)* }
        fallback $unknown:ident
    ) => {
        $(#[$attr])*
        #[repr(u8)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
            /// A type this version does not know (a newer V8's): kept, shown as unknown.
            $unknown,
        }

        impl $name {
            /// Every value, in discriminant order (`ALL[t as usize] == t`).
            pub const ALL: &'static [$name] = &[$($name::$variant,)* $name::$unknown];

            /// Maps V8's type name to the enum; names this version does not know become
            #[doc = concat!("`", stringify!($unknown), "`.")]
            pub fn from_v8_name(name: &str) -> $name {
                match name {
                    $($v8 => $name::$variant,)*
                    _ => $name::$unknown,
                }
            }

            pub fn from_u8(v: u8) -> $name {
                $name::ALL.get(v as usize).copied().unwrap_or($name::$unknown)
            }

            pub fn v8_name(self) -> &'static str {
                match self {
                    $($name::$variant => $v8,)*
                    $name::$unknown => "unknown",
                }
            }
        }
    };
}

v8_type_enum! {
    /// Node kinds, as V8 names them in `snapshot.meta.node_types[0]`.
    ///
    /// The snapshot numbers its types by position in that list, which differs between versions
    /// (Node 20 has `wasm object` at the end, Node 22+ does not), so the reader maps each
    /// position to this fixed enum by name.
    pub enum NodeType {
        Hidden = "hidden",
        Array = "array",
        String = "string",
        Object = "object",
        Code = "code",
        Closure = "closure",
        RegExp = "regexp",
        Number = "number",
        Native = "native",
        Synthetic = "synthetic",
        ConsString = "concatenated string",
        SlicedString = "sliced string",
        Symbol = "symbol",
        BigInt = "bigint",
        ObjectShape = "object shape",
        WasmObject = "wasm object",
    }
    fallback Unknown
}

impl NodeType {
    /// Strings of every representation; their node name is their content.
    pub fn is_string(self) -> bool {
        matches!(
            self,
            NodeType::String | NodeType::ConsString | NodeType::SlicedString
        )
    }
}

v8_type_enum! {
    /// Edge kinds, as V8 names them in `snapshot.meta.edge_types[0]`.
    pub enum EdgeType {
        Context = "context",
        Element = "element",
        Property = "property",
        Internal = "internal",
        Hidden = "hidden",
        Shortcut = "shortcut",
        Weak = "weak",
    }
    fallback Unknown
}

impl EdgeType {
    /// Element and hidden edges carry a number in `name_or_index`; all others a string index.
    pub fn name_is_index(self) -> bool {
        matches!(self, EdgeType::Element | EdgeType::Hidden)
    }
}

/// Where V8 says an object's code lives: `snapshot.locations`, 0-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub node: NodeIndex,
    pub script_id: u32,
    pub line: u32,
    pub column: u32,
}

/// Self sizes above `u32::MAX - 1` are rare (one huge backing store); the column holds this
/// marker and the true value lives in a small side table.
pub(crate) const LARGE_SELF_SIZE: u32 = u32::MAX;

/// Bits that hold `count` distinct values `0..count`.
const fn bits_for(count: usize) -> u32 {
    usize::BITS - (count - 1).leading_zeros()
}

/// Node type and name share one `u32`: the type in the low bits (as many as the enum needs:
/// 5 for 17 types), the name index above. A name index that does not fit (over 134 M
/// strings) is stored in a side table behind this marker.
const NODE_TYPE_BITS: u32 = bits_for(NodeType::ALL.len());
const NODE_NAME_ESCAPE: u32 = u32::MAX >> NODE_TYPE_BITS;
/// Edge type and name share one `u32` the same way (3 bits for 8 types; names or indices
/// over 536 M go to a side table).
const EDGE_TYPE_BITS: u32 = bits_for(EdgeType::ALL.len());
const EDGE_NAME_ESCAPE: u32 = u32::MAX >> EDGE_TYPE_BITS;

// Every type value must fit its bits, and `ALL` must list the values in order: a type that
// spilled into the name field would silently rename nodes.
const _: () = {
    let mut i = 0;
    while i < NodeType::ALL.len() {
        assert!(NodeType::ALL[i] as usize == i && i < 1 << NODE_TYPE_BITS);
        i += 1;
    }
    let mut i = 0;
    while i < EdgeType::ALL.len() {
        assert!(EdgeType::ALL[i] as usize == i && i < 1 << EDGE_TYPE_BITS);
        i += 1;
    }
};

/// A whole heap snapshot as flat columns: 16 bytes per node and 8 per edge. Built by
/// [`crate::reader`] or, in tests, by [`crate::GraphBuilder`].
#[derive(Debug, Default)]
pub struct HeapGraph {
    /// `name << NODE_TYPE_BITS | type`.
    node_type_name: Vec<u32>,
    node_ids: Vec<u32>,
    node_self_sizes: Vec<u32>,
    large_self_sizes: Vec<(NodeIndex, u64)>,
    large_node_names: Vec<(NodeIndex, u32)>,
    /// `first_edge[n]..first_edge[n + 1]` are node `n`'s outgoing edges; length = nodes + 1.
    pub(crate) first_edge: Vec<EdgeIndex>,
    /// `name_or_index << EDGE_TYPE_BITS | type`.
    edge_type_name: Vec<u32>,
    large_edge_names: Vec<(EdgeIndex, u32)>,
    pub(crate) edge_targets: Vec<NodeIndex>,
    pub(crate) strings: StringTable,
    pub(crate) locations: Vec<Location>,
    pub(crate) producer: Producer,
    /// `snapshot.extra_native_bytes` (Node 24+): native memory no node accounts for.
    pub(crate) extra_native_bytes: u64,
    /// Per node, its allocation stack in `traces` (0: none). Empty unless some node has one,
    /// and no longer than the last node that has one: untracked snapshots pay nothing.
    trace_node_ids: Vec<u32>,
    pub(crate) traces: crate::traces::AllocationTraces,
}

/// What wrote the snapshot, guessed from its layout (the file carries no version).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Producer {
    /// V8 (Node, Chrome, Deno): `strings[0]` is `<dummy>`.
    #[default]
    V8,
    /// Bun's V8-format export of a JavaScriptCore heap: `strings[0]` is empty.
    BunV8Export,
}

impl HeapGraph {
    /// The synthetic root every path starts from (always the first node).
    pub const ROOT: NodeIndex = 0;

    /// An empty graph with room for `nodes` and `edges`.
    pub(crate) fn with_capacity(nodes: usize, edges: usize) -> HeapGraph {
        let mut first_edge = Vec::with_capacity(nodes + 1);
        first_edge.push(0);
        HeapGraph {
            node_type_name: Vec::with_capacity(nodes),
            node_ids: Vec::with_capacity(nodes),
            node_self_sizes: Vec::with_capacity(nodes),
            first_edge,
            edge_type_name: Vec::with_capacity(edges),
            edge_targets: Vec::with_capacity(edges),
            ..Default::default()
        }
    }

    /// Makes room for `more` nodes, never past `limit` (the count the header declares).
    /// Columns start at a reservation the input can justify and grow as records arrive,
    /// geometrically, so a corrupt header cannot reserve memory the data never fills.
    pub(crate) fn reserve_nodes(&mut self, more: usize, limit: usize) {
        grow(&mut self.node_type_name, more, limit);
        grow(&mut self.node_ids, more, limit);
        grow(&mut self.node_self_sizes, more, limit);
        grow(&mut self.first_edge, more, limit + 1);
    }

    /// Makes room for `more` edges, never past `limit` (see [`HeapGraph::reserve_nodes`]).
    pub(crate) fn reserve_edges(&mut self, more: usize, limit: usize) {
        grow(&mut self.edge_type_name, more, limit);
        grow(&mut self.edge_targets, more, limit);
    }

    /// Appends a node; its edges are the ones pushed since the previous node.
    #[inline]
    pub(crate) fn push_node(
        &mut self,
        t: NodeType,
        name: u32,
        id: u32,
        self_size: u64,
        edge_end: u32,
    ) {
        let n = self.node_ids.len() as NodeIndex;
        let name_field = if name >= NODE_NAME_ESCAPE {
            self.large_node_names.push((n, name));
            NODE_NAME_ESCAPE
        } else {
            name
        };
        self.node_type_name
            .push(name_field << NODE_TYPE_BITS | t as u32);
        debug_assert_eq!(self.node_type(n), t);
        self.node_ids.push(id);
        if self_size >= LARGE_SELF_SIZE as u64 {
            self.large_self_sizes.push((n, self_size));
            self.node_self_sizes.push(LARGE_SELF_SIZE);
        } else {
            self.node_self_sizes.push(self_size as u32);
        }
        self.first_edge.push(edge_end);
    }

    #[inline]
    pub(crate) fn push_edge(&mut self, t: EdgeType, name_or_index: u32, to: NodeIndex) {
        let name_field = if name_or_index >= EDGE_NAME_ESCAPE {
            self.large_edge_names
                .push((self.edge_targets.len() as EdgeIndex, name_or_index));
            EDGE_NAME_ESCAPE
        } else {
            name_or_index
        };
        self.edge_type_name
            .push(name_field << EDGE_TYPE_BITS | t as u32);
        self.edge_targets.push(to);
        debug_assert_eq!(self.edge_type(self.edge_targets.len() as EdgeIndex - 1), t);
    }

    pub fn node_count(&self) -> usize {
        self.node_ids.len()
    }

    /// Records node `n`'s allocation stack (`trace_node_id`, non-zero). `limit`: the node
    /// count, reserved once when the first traced node arrives.
    pub(crate) fn set_trace_node_id(&mut self, n: NodeIndex, trace: u32, limit: usize) {
        let n = n as usize;
        if self.trace_node_ids.is_empty() {
            self.trace_node_ids.reserve_exact(limit.max(n + 1));
        }
        if self.trace_node_ids.len() <= n {
            self.trace_node_ids.resize(n + 1, 0);
        }
        self.trace_node_ids[n] = trace;
    }

    /// The node's allocation stack id in [`HeapGraph::traces`]; 0 when it has none (the
    /// snapshot was taken without allocation tracking, or the object is older than it).
    #[inline]
    pub fn trace_node_id(&self, n: NodeIndex) -> u32 {
        self.trace_node_ids.get(n as usize).copied().unwrap_or(0)
    }

    /// True when some node carries an allocation stack.
    pub fn has_allocation_traces(&self) -> bool {
        !self.trace_node_ids.is_empty() && !self.traces.is_empty()
    }

    /// The allocation stacks (`trace_tree`, `trace_function_infos`); empty without tracking.
    pub fn traces(&self) -> &crate::traces::AllocationTraces {
        &self.traces
    }

    pub fn edge_count(&self) -> usize {
        self.edge_targets.len()
    }

    pub fn producer(&self) -> Producer {
        self.producer
    }

    /// `snapshot.extra_native_bytes`: native memory V8 knows of but attributes to no node
    /// (0 before Node 24).
    pub fn extra_native_bytes(&self) -> u64 {
        self.extra_native_bytes
    }

    #[inline]
    pub fn node_type(&self, n: NodeIndex) -> NodeType {
        NodeType::from_u8((self.node_type_name[n as usize] & ((1 << NODE_TYPE_BITS) - 1)) as u8)
    }

    /// The raw name index of a node (for grouping by name without string compares).
    #[inline]
    pub fn node_name_index(&self, n: NodeIndex) -> u32 {
        let v = self.node_type_name[n as usize] >> NODE_TYPE_BITS;
        if v == NODE_NAME_ESCAPE {
            lookup(&self.large_node_names, n)
        } else {
            v
        }
    }

    #[inline]
    pub fn node_name(&self, n: NodeIndex) -> &str {
        self.strings.get(self.node_name_index(n))
    }

    #[inline]
    pub fn node_id(&self, n: NodeIndex) -> u32 {
        self.node_ids[n as usize]
    }

    #[inline]
    pub fn self_size(&self, n: NodeIndex) -> u64 {
        let s = self.node_self_sizes[n as usize];
        if s == LARGE_SELF_SIZE {
            self.large_self_size(n)
        } else {
            s as u64
        }
    }

    #[cold]
    fn large_self_size(&self, n: NodeIndex) -> u64 {
        match self.large_self_sizes.binary_search_by_key(&n, |&(i, _)| i) {
            Ok(k) => self.large_self_sizes[k].1,
            Err(_) => LARGE_SELF_SIZE as u64,
        }
    }

    /// Node `n`'s outgoing edges as a range of edge indices.
    #[inline]
    pub fn edges_of(&self, n: NodeIndex) -> std::ops::Range<EdgeIndex> {
        self.first_edge[n as usize]..self.first_edge[n as usize + 1]
    }

    #[inline]
    pub fn edge_type(&self, e: EdgeIndex) -> EdgeType {
        EdgeType::from_u8((self.edge_type_name[e as usize] & ((1 << EDGE_TYPE_BITS) - 1)) as u8)
    }

    #[inline]
    pub fn edge_target(&self, e: EdgeIndex) -> NodeIndex {
        self.edge_targets[e as usize]
    }

    /// The raw `name_or_index` value: an index for element/hidden edges, else a string index.
    #[inline]
    pub fn edge_name_or_index(&self, e: EdgeIndex) -> u32 {
        let v = self.edge_type_name[e as usize] >> EDGE_TYPE_BITS;
        if v == EDGE_NAME_ESCAPE {
            lookup(&self.large_edge_names, e)
        } else {
            v
        }
    }

    /// The edge's name for string-named edges (`None` for element/hidden edges).
    pub fn edge_name(&self, e: EdgeIndex) -> Option<&str> {
        if self.edge_type(e).name_is_index() {
            None
        } else {
            Some(self.strings.get(self.edge_name_or_index(e)))
        }
    }

    /// The edge as a person reads it in a path: `.foo`, `[3]`, `{context var}`, …
    pub fn edge_label(&self, e: EdgeIndex) -> String {
        let raw = self.edge_name_or_index(e);
        match self.edge_type(e) {
            EdgeType::Element | EdgeType::Hidden => format!("[{raw}]"),
            _ => self.strings.get(raw).to_string(),
        }
    }

    pub fn strings(&self) -> &StringTable {
        &self.strings
    }

    pub fn string(&self, i: u32) -> &str {
        self.strings.get(i)
    }

    pub fn locations(&self) -> &[Location] {
        &self.locations
    }

    /// Finds a node by its V8 id (a linear scan: ids are not sorted).
    pub fn node_by_id(&self, id: u32) -> Option<NodeIndex> {
        self.node_ids
            .iter()
            .position(|&x| x == id)
            .map(|i| i as NodeIndex)
    }

    /// All node ids, by node index (for matching snapshots of one process).
    pub fn node_ids(&self) -> &[u32] {
        &self.node_ids
    }

    /// Sum of every node's self size.
    pub fn total_self_size(&self) -> u64 {
        (0..self.node_count() as NodeIndex)
            .map(|n| self.self_size(n))
            .sum()
    }

    /// Moves `n`'s self size into `owner` (DevTools' folding of internal arrays into the one
    /// object that owns them).
    pub(crate) fn fold_self_size(&mut self, n: NodeIndex, owner: NodeIndex) {
        let moved = self.self_size(n);
        let total = self.self_size(owner) + moved;
        self.set_self_size(owner, total);
        self.set_self_size(n, 0);
    }

    fn set_self_size(&mut self, n: NodeIndex, size: u64) {
        let slot = &mut self.node_self_sizes[n as usize];
        let pos = self.large_self_sizes.binary_search_by_key(&n, |&(i, _)| i);
        if size >= LARGE_SELF_SIZE as u64 {
            *slot = LARGE_SELF_SIZE;
            match pos {
                Ok(k) => self.large_self_sizes[k].1 = size,
                Err(k) => self.large_self_sizes.insert(k, (n, size)),
            }
        } else {
            *slot = size as u32;
            if let Ok(k) = pos {
                self.large_self_sizes.remove(k);
            }
        }
    }

    /// Bytes these columns take in memory.
    pub fn heap_bytes(&self) -> usize {
        4 * (self.node_type_name.capacity()
            + self.node_ids.capacity()
            + self.node_self_sizes.capacity()
            + self.first_edge.capacity()
            + self.edge_type_name.capacity()
            + self.edge_targets.capacity())
            + self.strings.heap_bytes()
            + std::mem::size_of::<Location>() * self.locations.capacity()
            + 4 * self.trace_node_ids.capacity()
            + self.traces.heap_bytes()
    }
}

/// Ensures room for `more` elements: doubling, but capped at `limit` (unless even that is
/// too small, when the pushes past it are caught by the caller's count checks).
#[inline]
fn grow<T>(v: &mut Vec<T>, more: usize, limit: usize) {
    let need = v.len() + more;
    if need > v.capacity() {
        let target = need.max(v.capacity() * 2).min(limit.max(need));
        v.reserve_exact(target - v.len());
    }
}

#[cold]
fn lookup(table: &[(u32, u32)], key: u32) -> u32 {
    match table.binary_search_by_key(&key, |&(k, _)| k) {
        Ok(i) => table[i].1,
        Err(_) => 0,
    }
}
