//! Leak patterns: which way a suspect is held, in terms a Node.js engineer acts on, with the
//! explanation and the fix. One file per pattern: what it is, how it is recognised from the
//! way Node and V8 hold objects, its wording, its tests.
//!
//! Rules are tried in order and the first that matches wins: how an object is *held* (a
//! listener list, a timer list) says more about the fix than what it *is*.

mod closure_capture;
mod event_listener;
mod retained_request;
mod timer;
mod unbounded_collection;

use leakhunt_engine::graph::{EdgeType, HeapGraph, NodeType};
use leakhunt_engine::{Analysis, NodeIndex, RetainerPath};
pub use leakhunt_findings::Pattern;
use leakhunt_findings::{
    Captured, CountUnit, Explanation, Owner, OwnerKind, SourceLocation, Suspect,
};

use super::report::Growth;
use super::source;
use crate::locator::Locator;

/// What a rule sees: the analysed last snapshot, the suspect's representative object (the
/// top of one leaked structure) and its shortest path.
pub struct Context<'a> {
    pub a: &'a Analysis,
    pub locator: &'a Locator<'a>,
    pub object: NodeIndex,
    /// Holders from the object up to the root's child: `(edge, holder)`.
    pub holders: Vec<(u32, NodeIndex)>,
    /// Position in `holders` of the anchor, the collection the objects accumulate under
    /// (`holders.len()` when it is not on the path).
    pub anchor_index: usize,
    pub growth: &'a Growth,
}

/// What a matching rule found: facts, not words (the printer words them).
pub struct Finding {
    pub pattern: Pattern,
    /// In the script that runs; mapped for display by the caller.
    pub location: Option<SourceLocation>,
    pub owner: Option<Owner>,
    pub captured: Vec<Captured>,
    pub explanation: Explanation,
}

impl<'a> Context<'a> {
    fn graph(&self) -> &'a HeapGraph {
        &self.a.graph
    }

    /// Where the growth sits on the path: the anchor (the collection the objects accumulate
    /// under), or the object's own holder when the anchor is not on the path.
    pub fn growth_index(&self) -> usize {
        if self.anchor_index < self.holders.len() {
            self.anchor_index
        } else {
            0
        }
    }

    /// Whether the growth is held *by* the holder at `index` itself, through plain storage:
    /// no function and no scope between them. Past a closure or a scope the growth belongs
    /// to what that function keeps (a request handler's module variables), not to whatever
    /// holds the function (the server whose listener it is, the timer that runs it).
    pub fn held_directly_by(&self, index: usize) -> bool {
        let g = self.graph();
        let start = self.growth_index();
        start <= index
            && self.holders[start..index].iter().all(|&(_, h)| {
                g.node_type(h) != NodeType::Closure && g.node_name(h) != "system / Context"
            })
    }

    /// The same context with the object itself as the first holder, for rules that name the
    /// object by how it is held (a collection growing by itself, a string growing).
    pub fn object_as_holder(&self) -> Context<'a> {
        let mut holders = vec![(0u32, self.object)];
        holders.extend_from_slice(&self.holders);
        Context {
            a: self.a,
            locator: self.locator,
            object: self.object,
            holders,
            anchor_index: 0,
            growth: self.growth,
        }
    }

    pub fn class_of(&self, n: NodeIndex) -> &'a str {
        self.locator.class_of(n)
    }

    /// Property or internal edge name, if the edge has one.
    pub fn edge_name(&self, e: u32) -> Option<&'a str> {
        self.graph().edge_name(e)
    }

    /// Where a node's code is, when it is the program's own (not Node's internals), in the
    /// script that runs.
    pub fn user_location(&self, n: NodeIndex) -> Option<SourceLocation> {
        self.locator.script_location(n).filter(|l| !l.is_runtime())
    }

    /// The first of the program's closures at or just below `n` (a listener record's
    /// callback, a timer's `_onTimeout`), searched breadth-first a few references deep.
    pub fn closure_below(&self, n: NodeIndex) -> Option<NodeIndex> {
        let g = self.graph();
        let mut frontier = vec![n];
        for _ in 0..3 {
            let mut next = Vec::new();
            for &v in &frontier {
                if g.node_type(v) == NodeType::Closure && self.user_location(v).is_some() {
                    return Some(v);
                }
                for e in g.edges_of(v) {
                    if matches!(
                        g.edge_type(e),
                        EdgeType::Property | EdgeType::Internal | EdgeType::Element
                    ) && g.edge_name(e) != Some("__proto__")
                        && g.edge_name(e) != Some("map")
                    {
                        next.push(g.edge_target(e));
                    }
                }
            }
            frontier = next;
        }
        None
    }

    /// The program's closure nearest above the object on its path (the code holding it).
    pub fn closure_above(&self) -> Option<NodeIndex> {
        self.holders.iter().map(|&(_, h)| h).find(|&h| {
            self.graph().node_type(h) == NodeType::Closure && self.user_location(h).is_some()
        })
    }

    /// Names a holder by how it is held: a module's variable (`userCache` in
    /// `src/cache.js`), a property of an object in a variable (`channels.news`), a module's
    /// export, a class's static field (`QueryCache.entries`). `index` is the holder's
    /// position in `holders`.
    pub fn owner(&self, index: usize) -> Option<Owner> {
        let g = self.graph();
        let &(edge, owner) = self.holders.get(index + 1)?;
        let name = g.edge_name(edge)?;
        let variable = |scope: NodeIndex, path: String| match self.context_file(scope) {
            Some(file) => Owner {
                kind: OwnerKind::ModuleVariable,
                module: Some(self.locator.display_file(&file)),
                path,
            },
            None => Owner {
                kind: OwnerKind::ClosureVariable,
                module: None,
                path,
            },
        };
        match g.edge_type(edge) {
            EdgeType::Context => Some(variable(owner, name.to_string())),
            EdgeType::Property | EdgeType::Internal => {
                let prop = name.trim_start_matches("<symbol ").trim_end_matches('>');
                // A module's exports read best as the module: `module lib/cache.js > exports.memo`.
                if let Some(file) = self.exports_of_module(index + 1) {
                    return Some(Owner {
                        kind: OwnerKind::ModuleExport,
                        module: Some(self.locator.display_file(&file)),
                        path: format!("exports.{prop}"),
                    });
                }
                // An object in a variable reads best through that variable:
                // `module src/rooms.js > channels.news`, `module lib/db.js > Connection.all`.
                if let Some(&(up_edge, scope)) = self.holders.get(index + 2) {
                    if let (EdgeType::Context, Some(var)) =
                        (g.edge_type(up_edge), g.edge_name(up_edge))
                    {
                        return Some(variable(scope, format!("{var}.{prop}")));
                    }
                }
                // A class's static field hangs off its constructor: `Connection.all`.
                let holder = match g.node_name(owner) {
                    name if g.node_type(owner) == NodeType::Closure && !name.is_empty() => name,
                    _ => self.class_of(owner),
                };
                Some(Owner {
                    kind: OwnerKind::Property,
                    module: None,
                    path: format!("{holder}.{prop}"),
                })
            }
            _ => None,
        }
    }

    /// When the holder at `index` is a CommonJS module's `exports`, that module's file (Node's
    /// `Module` objects keep their `filename`).
    pub fn exports_of_module(&self, index: usize) -> Option<String> {
        let g = self.graph();
        let &(edge, module) = self.holders.get(index + 1)?;
        if self.edge_name(edge) != Some("exports") || self.class_of(module) != "Module" {
            return None;
        }
        g.edges_of(module)
            .find(|&e| g.edge_name(e) == Some("filename"))
            .map(|e| g.edge_target(e))
            .filter(|&f| g.node_type(f).is_string())
            .map(|f| g.node_name(f).to_string())
    }

    /// The file of a function using this scope (a `system / Context`): the module it is in.
    /// Finding it takes a scan of every closure, so answers are kept (in the locator, which
    /// lives for the whole diagnosis) for the next suspect held in the same scope.
    pub fn context_file(&self, context: NodeIndex) -> Option<String> {
        self.locator.scope_file(context, || {
            let g = self.graph();
            (0..g.node_count() as NodeIndex)
                .filter(|&v| g.node_type(v) == NodeType::Closure)
                .filter(|&v| {
                    g.edges_of(v)
                        .any(|e| g.edge_target(e) == context && g.edge_name(e) == Some("context"))
                })
                .find_map(|v| self.user_location(v).map(|l| l.file))
        })
    }

    /// The variable or property name that holds the holder at `index` (for source search).
    pub fn holding_name(&self, index: usize) -> Option<&'a str> {
        let &(edge, _) = self.holders.get(index + 1)?;
        match self.graph().edge_type(edge) {
            EdgeType::Context | EdgeType::Property => self.edge_name(edge),
            _ => None,
        }
    }

    /// Where the program grows the collection held as `name`: the `name.set(`/`push(`/… call
    /// in the module that holds it, else the closure above on the path.
    pub fn growth_site(&self, index: usize, methods: &[&str]) -> Option<SourceLocation> {
        let name = self.holding_name(index)?;
        let &(_, owner) = self.holders.get(index + 1)?;
        let file = if self.graph().node_type(owner) == NodeType::Object
            && self.graph().node_name(owner) == "system / Context"
        {
            self.context_file(owner)
        } else {
            self.user_location(owner)
                .map(|l| l.file)
                .or_else(|| self.exports_of_module(index + 1))
                .or_else(|| {
                    self.closure_above()
                        .and_then(|c| self.user_location(c))
                        .map(|l| l.file)
                })
        }?;
        let text = source::read_script(&file)?;
        let at = source::find_growth_call(&text, name, methods)?;
        Some(SourceLocation {
            file,
            line: at.line,
            column: at.column,
            function: None,
        })
    }
}

/// Builds the suspect for a representative object: path, pattern, location, facts.
/// `anchor` is the object the growth accumulates under; `collection` is set when the
/// suspect is a collection growing by itself (then `object` is that collection).
pub fn explain(
    locator: &Locator,
    object: NodeIndex,
    anchor: Option<NodeIndex>,
    collection: Option<NodeIndex>,
    growth: Growth,
) -> Suspect {
    let a = locator.analysis();
    let path = a.shortest_path(object).unwrap_or(RetainerPath {
        target: object,
        steps: Vec::new(),
    });
    let holders: Vec<(u32, NodeIndex)> = path
        .steps
        .iter()
        .filter(|s| s.holder != HeapGraph::ROOT)
        .map(|s| (s.edge, s.holder))
        .collect();
    let anchor_index = anchor
        .and_then(|x| holders.iter().position(|&(_, h)| h == x))
        .unwrap_or(holders.len());
    let ctx = Context {
        a,
        locator,
        object,
        holders,
        anchor_index,
        growth: &growth,
    };
    let finding = match collection {
        // A collection growing by itself may be a listener list or a timer list: how it is
        // held says more than what it is.
        Some(_) => event_listener::check(&ctx)
            .or_else(|| timer::check(&ctx))
            .unwrap_or_else(|| unbounded_collection::for_collection(&ctx)),
        None => retained_request::check(&ctx)
            .or_else(|| event_listener::check(&ctx))
            .or_else(|| timer::check(&ctx))
            .or_else(|| closure_capture::check(&ctx))
            .or_else(|| unbounded_collection::check(&ctx))
            .unwrap_or_else(|| other(&ctx)),
    };
    Suspect {
        pattern: finding.pattern,
        class: ctx.class_of(object).to_string(),
        count_per_step: growth.count_per_step,
        count_unit: match collection {
            None => CountUnit::Objects,
            Some(c) if crate::leaks::facts::numbers_store(&a.graph, c).is_some() => {
                CountUnit::Slots
            }
            Some(_) => CountUnit::Entries,
        },
        bytes_per_step: growth.bytes_per_step,
        retained_bytes: *growth.series.bytes.last().unwrap_or(&0),
        count_by_snapshot: growth.series.counts.clone(),
        bytes_by_snapshot: growth.series.bytes.clone(),
        // Rules work on the JavaScript that runs (and read it); people read the original
        // source.
        location: finding.location.map(|l| locator.display(l)),
        owner: finding.owner,
        captured: finding.captured,
        explanation: finding.explanation,
        path: locator.path(&path),
    }
}

/// None of the patterns: say what grows and where it is held.
fn other(ctx: &Context) -> Finding {
    if ctx.graph().node_type(ctx.object).is_string() {
        if let Some(f) = growing_string(ctx) {
            return f;
        }
    }
    let holder_class = ctx
        .holders
        .first()
        .map(|&(_, h)| ctx.class_of(h).to_string());
    let location = ctx
        .closure_above()
        .and_then(|c| ctx.user_location(c))
        .or_else(|| ctx.user_location(ctx.object));
    Finding {
        pattern: Pattern::Other,
        location,
        owner: None,
        captured: Vec::new(),
        explanation: Explanation::Other { holder_class },
    }
}

/// A string that only grows, held by a variable or property: `log += line` makes a new
/// string whose first half is the old one (V8's concatenated strings), so a string built up
/// by appending keeps every piece ever appended.
fn growing_string(ctx: &Context) -> Option<Finding> {
    let ctx = &ctx.object_as_holder();
    let owner = ctx.owner(0)?;
    ctx.holding_name(0)?;
    let location = ctx
        .growth_site(0, &["concat"])
        .or_else(|| ctx.closure_above().and_then(|c| ctx.user_location(c)));
    Some(Finding {
        pattern: Pattern::Other,
        location,
        owner: Some(owner),
        captured: Vec::new(),
        explanation: Explanation::GrowingString,
    })
}

/// Small heaps built in code, and the context a rule sees for one of their objects.
#[cfg(test)]
pub(crate) mod testing {
    use leakhunt_engine::{Analysis, AnalysisOptions, EdgeType, GraphBuilder, NodeIndex, NodeType};

    use super::Context;
    use crate::leaks::growth::Series;
    use crate::leaks::report::Growth;
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
                },
            }
        }
    }

    impl Heap {
        /// What rules locate with: no source maps, paths as they are.
        pub fn locator(&self) -> Locator<'_> {
            Locator::new(&self.a, Default::default(), None)
        }

        /// The context for `object`, anchored at `anchor`.
        pub fn context<'a>(
            &'a self,
            locator: &'a Locator<'a>,
            object: NodeIndex,
            anchor: NodeIndex,
        ) -> Context<'a> {
            let path = self.a.shortest_path(object).expect("reachable");
            let holders: Vec<(u32, NodeIndex)> = path
                .steps
                .iter()
                .filter(|s| s.holder != 0)
                .map(|s| (s.edge, s.holder))
                .collect();
            let anchor_index = holders
                .iter()
                .position(|&(_, h)| h == anchor)
                .unwrap_or(holders.len());
            Context {
                a: &self.a,
                locator,
                object,
                holders,
                anchor_index,
                growth: &self.growth,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use leakhunt_engine::{EdgeType, NodeType};

    use super::testing::Builder;
    use super::*;

    #[test]
    fn a_string_that_only_grows_is_explained_as_one() {
        let mut h = Builder::new();
        let log = h.var(
            "auditLog",
            NodeType::ConsString,
            "(concatenated string)",
            32,
        );
        let old = h.node(NodeType::ConsString, "(concatenated string)", 32);
        let piece = h.node(NodeType::String, "GET /users/7", 32);
        h.edge(log, EdgeType::Internal, "first", old);
        h.edge(log, EdgeType::Internal, "second", piece);
        let heap = h.build();
        let f = other(&heap.context(&heap.locator(), log, log));
        assert_eq!(f.owner.unwrap().path, "auditLog");
        assert_eq!(f.explanation, Explanation::GrowingString);
    }

    #[test]
    fn other_objects_get_the_general_wording() {
        let mut h = Builder::new();
        let thing = h.var("thing", NodeType::Object, "Widget", 32);
        let heap = h.build();
        let f = other(&heap.context(&heap.locator(), thing, thing));
        assert_eq!(f.pattern, Pattern::Other);
        assert_eq!(
            f.explanation,
            Explanation::Other {
                holder_class: Some("system / Context".into())
            }
        );
    }
}
