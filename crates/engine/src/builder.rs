//! Builds small heap graphs in code, for tests and examples: the same columns the reader
//! fills, without writing JSON.

use crate::graph::{EdgeType, HeapGraph, Location, NodeIndex, NodeType, Producer};
use crate::strings::StringTable;

/// Accumulates nodes and edges; `build` lays them out as the reader would.
///
/// ```
/// use leakhunt_engine::{GraphBuilder, NodeType, EdgeType};
/// let mut b = GraphBuilder::new();
/// let root = b.root();
/// let a = b.node(NodeType::Object, "A", 32);
/// b.edge(root, EdgeType::Element, "1", a);
/// let g = b.build();
/// assert_eq!(g.node_count(), 2);
/// ```
#[derive(Default)]
pub struct GraphBuilder {
    strings: StringTable,
    string_ids: std::collections::HashMap<String, u32>,
    nodes: Vec<(NodeType, u32, u32, u64)>,
    edges: Vec<Vec<(EdgeType, u32, NodeIndex)>>,
    locations: Vec<Location>,
    next_id: u32,
    traces: crate::traces::AllocationTraces,
    /// (node, trace node id)
    traced: Vec<(NodeIndex, u32)>,
}

impl GraphBuilder {
    /// A builder whose node 0 is the synthetic root, as in every V8 snapshot.
    pub fn new() -> GraphBuilder {
        let mut b = GraphBuilder {
            strings: StringTable::new(),
            next_id: 1,
            ..Default::default()
        };
        b.intern("<dummy>");
        b.node(NodeType::Synthetic, "", 0);
        b
    }

    pub fn root(&self) -> NodeIndex {
        0
    }

    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.string_ids.get(s) {
            return i;
        }
        let i = self.strings.push(s);
        self.string_ids.insert(s.to_string(), i);
        i
    }

    /// Adds a node with the next odd id (V8 gives JS objects odd ids).
    pub fn node(&mut self, t: NodeType, name: &str, self_size: u64) -> NodeIndex {
        let id = self.next_id;
        self.next_id += 2;
        self.node_with_id(t, name, self_size, id)
    }

    pub fn node_with_id(&mut self, t: NodeType, name: &str, self_size: u64, id: u32) -> NodeIndex {
        let name = self.intern(name);
        self.nodes.push((t, name, id, self_size));
        self.edges.push(Vec::new());
        (self.nodes.len() - 1) as NodeIndex
    }

    /// Adds an edge; `name` is a property name, or a number for element/hidden edges.
    pub fn edge(&mut self, from: NodeIndex, t: EdgeType, name: &str, to: NodeIndex) {
        let name = if t.name_is_index() {
            name.parse()
                .expect("element and hidden edges take a numeric name")
        } else {
            self.intern(name)
        };
        self.edges[from as usize].push((t, name, to));
    }

    /// Says `node` was allocated under `stack` (innermost frame first), as a snapshot taken
    /// with allocation tracking does: each frame is `(function, script, line, column)`,
    /// 1-based. Stacks sharing callers share tree nodes, as in V8's tree.
    pub fn allocated_at(&mut self, node: NodeIndex, stack: &[(&str, &str, u32, u32)]) {
        use crate::traces::{TraceFunction, NO_PARENT};
        if self.traces.is_empty() {
            let root = self.intern("(root)");
            let empty = self.intern("");
            self.traces.functions.push(TraceFunction {
                name: root,
                script_name: empty,
                line: 0,
                column: 0,
            });
            self.traces.push_node(1, NO_PARENT, 0);
        }
        let mut at = 0u32; // the root's index
        for &(name, script, line, column) in stack.iter().rev() {
            let f = TraceFunction {
                name: self.intern(name),
                script_name: self.intern(script),
                line,
                column,
            };
            let t = &mut self.traces;
            let function = match t.functions.iter().position(|x| *x == f) {
                Some(i) => i as u32,
                None => {
                    t.functions.push(f);
                    t.functions.len() as u32 - 1
                }
            };
            let child = (0..t.ids.len())
                .find(|&i| t.parents[i] == at && t.function_of[i] == function)
                .map(|i| i as u32);
            at = match child {
                Some(c) => c,
                None => {
                    let id = t.ids.len() as u32 + 1;
                    t.push_node(id, at, function)
                }
            };
        }
        let id = self.traces.ids[at as usize];
        self.traced.push((node, id));
    }

    /// Records where V8 says a node's code is (`snapshot.locations`: a script id, 0-based
    /// line and column). The script's path comes, as in a snapshot, from a function of that
    /// script: closure → `shared` → `script_or_debug_info`, whose name is the path.
    pub fn location(&mut self, node: NodeIndex, script_id: u32, line: u32, column: u32) {
        self.locations.push(Location {
            node,
            script_id,
            line,
            column,
        });
    }

    pub fn build(mut self) -> HeapGraph {
        let edge_total = self.edges.iter().map(Vec::len).sum();
        let mut g = HeapGraph::with_capacity(self.nodes.len(), edge_total);
        g.producer = Producer::V8;
        for (i, &(t, name, id, size)) in self.nodes.iter().enumerate() {
            for &(et, en, to) in &self.edges[i] {
                g.push_edge(et, en, to);
            }
            g.push_node(t, name, id, size, g.edge_count() as u32);
        }
        g.strings = std::mem::take(&mut self.strings);
        let count = g.node_count();
        for &(n, id) in &self.traced {
            g.set_trace_node_id(n, id, count);
        }
        g.traces = std::mem::take(&mut self.traces);
        g.traces.finish();
        g.locations = std::mem::take(&mut self.locations);
        g
    }
}
