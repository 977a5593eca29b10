//! Small heaps built in code, and the facts a rule sees for one of their objects.

use leakhunt_engine::{Analysis, AnalysisOptions, EdgeType, GraphBuilder, NodeIndex, NodeType};

use super::suspect_facts::SuspectFacts;
use crate::leaks::growth::{Growth, Series};
use crate::locator::Locator;

pub struct Heap {
    pub a: Analysis,
    pub growth: Growth,
}

/// A heap whose global holds a module scope (`system / Context`) with variables.
pub struct Builder {
    pub b: GraphBuilder,
    pub scope: NodeIndex,
}

impl Builder {
    pub fn new() -> Builder {
        let mut b = GraphBuilder::new();
        let global = b.node(NodeType::Object, "global", 10);
        let main = b.node(NodeType::Closure, "main", 32);
        let scope = b.node(NodeType::Object, "system / Context", 40);
        b.edge(b.root(), EdgeType::Shortcut, "global", global);
        b.edge(global, EdgeType::Property, "main", main);
        b.edge(main, EdgeType::Internal, "context", scope);
        Builder { b, scope }
    }

    /// Adds a module variable holding a new node.
    pub fn var(&mut self, name: &str, t: NodeType, class: &str, size: u64) -> NodeIndex {
        let n = self.b.node(t, class, size);
        self.b.edge(self.scope, EdgeType::Context, name, n);
        n
    }

    /// Registers `file` as script `id`, as a snapshot does: a function of it whose shared
    /// info points at the script. Nodes placed in script `id` ([`GraphBuilder::location`])
    /// are then in `file`.
    pub fn script(&mut self, id: u32, file: &std::path::Path) {
        let f = self.node(NodeType::Closure, "", 32);
        let shared = self.node(NodeType::Code, "system / SharedFunctionInfo", 32);
        let script = self.node(NodeType::Code, file.to_str().unwrap(), 32);
        self.edge(f, EdgeType::Internal, "shared", shared);
        self.edge(shared, EdgeType::Internal, "script_or_debug_info", script);
        self.b.location(f, id, 0, 0);
    }

    pub fn node(&mut self, t: NodeType, class: &str, size: u64) -> NodeIndex {
        self.b.node(t, class, size)
    }

    pub fn edge(&mut self, from: NodeIndex, t: EdgeType, name: &str, to: NodeIndex) {
        self.b.edge(from, t, name, to)
    }

    pub fn build(self) -> Heap {
        let a = Analysis::new(
            self.b.build(),
            &AnalysisOptions {
                retainer_paths: true,
                on_phase: None,
            },
        );
        let series = Series {
            counts: vec![1, 2, 3],
            bytes: vec![100, 200, 300],
        };
        Heap {
            a,
            growth: Growth {
                count_per_step: 1.0,
                bytes_per_step: 100.0,
                series,
                unit: None,
            },
        }
    }
}

impl Heap {
    /// What rules locate with: no source maps, paths as they are.
    pub fn locator(&self) -> Locator<'_> {
        Locator::new(&self.a, Default::default(), None)
    }

    /// The facts of a suspect whose representative object is `object`, its growth
    /// accumulating under `anchor`.
    pub fn facts<'a>(
        &'a self,
        locator: &'a Locator<'a>,
        object: NodeIndex,
        anchor: NodeIndex,
    ) -> SuspectFacts<'a> {
        let path = self.a.shortest_path(object).expect("reachable");
        SuspectFacts::new(locator, &path, Some(anchor), false, &self.growth)
    }

    /// The facts of a collection growing by itself.
    pub fn collection_facts<'a>(
        &'a self,
        locator: &'a Locator<'a>,
        collection: NodeIndex,
    ) -> SuspectFacts<'a> {
        let path = self.a.shortest_path(collection).expect("reachable");
        SuspectFacts::new(locator, &path, Some(collection), true, &self.growth)
    }
}
