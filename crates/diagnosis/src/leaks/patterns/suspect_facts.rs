//! What the rules know about a suspect, found in one place: its object and the chain of
//! holders on its shortest path, each with its class, what kind of node it is and how the
//! next one up holds it; where the program's code is along the way; and, asked for only by
//! the rules that need them (they cost a scan or a file read), what names a holder, the line
//! that grows it, the callback below the object, the variables a closure captures.
//!
//! Rules read these facts and never the graph: following one suspect through the rules
//! stays in this file and the rule's own.

mod library;
mod naming;

use std::cell::OnceCell;

use leakhunt_engine::fold::is_storage;
use leakhunt_engine::graph::{EdgeType, HeapGraph, NodeType};
use leakhunt_engine::{Analysis, NodeIndex};
use leakhunt_findings::{Captured, CountUnit, SourceLocation};

use crate::leaks::facts::numbers_store;
use crate::leaks::growth::Growth;

use crate::locator::Locator;
pub use library::{is_library_file, Entry, Keeper, SharedVariable};

/// What kind of node a path node is, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Closure,
    /// A function scope's variables (`system / Context`).
    Scope,
    String,
    /// V8's internal arrays and hidden storage (elements, hash tables, property stores).
    Storage,
    Other,
}

/// The reference by which the next node up holds a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge<'a> {
    pub kind: EdgeType,
    /// Property, variable or internal slot name; `None` for elements and hidden slots.
    pub name: Option<&'a str>,
    /// The index, for elements and hidden slots.
    pub index: u32,
}

/// One node of the suspect's path: the object (`nodes[0]`) or one of its holders.
#[derive(Debug, Clone)]
pub struct PathNode<'a> {
    node: NodeIndex,
    pub class: &'a str,
    pub kind: NodeKind,
    /// How the next node up holds this one (`None` for the topmost, which the roots hold).
    pub held_as: Option<Edge<'a>>,
    /// Where the program's own code for it is (a closure's position, an object's
    /// constructor), in the script that runs; `None` for Node's internals.
    pub location: Option<SourceLocation>,
}

/// A closure's own scope: the variables only it keeps, and what the closure retains.
pub struct ScopeCapture {
    /// Biggest first.
    pub captured: Vec<Captured>,
    pub closure_retains: u64,
}

pub struct SuspectFacts<'a> {
    locator: &'a Locator<'a>,
    /// The object first, then its holders up to the one the roots hold.
    pub nodes: Vec<PathNode<'a>>,
    /// Position in `nodes` where the growth accumulates: the anchor (the collection the
    /// objects gather under) when it is on the path, else the object's own holder.
    pub growth: usize,
    /// The suspect is a collection growing by itself (its entries, not new objects).
    pub is_collection: bool,
    /// The measure in the last snapshot (for a collection: its entries now).
    pub count_now: u64,
    callback: OnceCell<Option<SourceLocation>>,
    /// Scope → where a function using it is ([`SuspectFacts::scope_user`]).
    scope_users: std::cell::RefCell<std::collections::HashMap<NodeIndex, Option<SourceLocation>>>,
}

impl<'a> SuspectFacts<'a> {
    /// The facts of the suspect whose representative object is `path.target`; `anchor` is
    /// what its growth accumulates under.
    pub fn new(
        locator: &'a Locator<'a>,
        path: &leakhunt_engine::RetainerPath,
        anchor: Option<NodeIndex>,
        is_collection: bool,
        growth: &Growth,
    ) -> SuspectFacts<'a> {
        let g = &locator.analysis().graph;
        let chain: Vec<(Option<u32>, NodeIndex)> = std::iter::once((None, path.target))
            .chain(
                path.steps
                    .iter()
                    .filter(|s| s.holder != HeapGraph::ROOT)
                    .map(|s| (Some(s.edge), s.holder)),
            )
            .collect();
        // `chain[k].0` is the edge from `chain[k]` down to `chain[k - 1]`: node k − 1 is held
        // as that edge.
        let nodes: Vec<PathNode<'a>> = (0..chain.len())
            .map(|k| {
                let n = chain[k].1;
                let held_as = chain.get(k + 1).and_then(|&(e, _)| e).map(|e| Edge {
                    kind: g.edge_type(e),
                    name: g.edge_name(e),
                    index: g.edge_name_or_index(e),
                });
                PathNode {
                    node: n,
                    class: locator.class_of(n),
                    kind: node_kind(g, n),
                    held_as,
                    location: user_location(locator, n),
                }
            })
            .collect();
        let growth_at = anchor
            .and_then(|x| nodes.iter().skip(1).position(|p| p.node == x))
            .map_or(1, |i| i + 1);
        SuspectFacts {
            locator,
            nodes,
            growth: growth_at,
            is_collection,
            count_now: growth.series.counts.last().copied().unwrap_or(0),
            callback: OnceCell::new(),
            scope_users: Default::default(),
        }
    }

    fn graph(&self) -> &'a HeapGraph {
        &self.analysis().graph
    }

    fn analysis(&self) -> &'a Analysis {
        self.locator.analysis()
    }

    /// The suspect's object.
    pub fn object(&self) -> &PathNode<'a> {
        &self.nodes[0]
    }

    /// The object's holders, with their positions in `nodes` (1 onwards).
    pub fn holders(&self) -> impl Iterator<Item = (usize, &PathNode<'a>)> {
        self.nodes.iter().enumerate().skip(1)
    }

    /// What `count_per_step` counts.
    pub fn count_unit(&self) -> CountUnit {
        if !self.is_collection {
            CountUnit::Objects
        } else if numbers_store(self.graph(), self.object().node).is_some() {
            CountUnit::Slots
        } else {
            CountUnit::Entries
        }
    }

    /// Whether the growth is held *by* the node at `index` itself, through plain storage:
    /// no function and no scope between them. Past a closure or a scope the growth belongs
    /// to what that function keeps (a request handler's module variables), not to whatever
    /// holds the function (the server whose listener it is, the timer that runs it).
    pub fn held_directly_by(&self, index: usize) -> bool {
        self.growth <= index
            && self.nodes[self.growth..index]
                .iter()
                .all(|p| !matches!(p.kind, NodeKind::Closure | NodeKind::Scope))
    }

    /// The location of the program's closure nearest above the object (the code holding it).
    pub fn closure_above(&self) -> Option<&SourceLocation> {
        self.holders()
            .find(|(_, p)| p.kind == NodeKind::Closure && p.location.is_some())
            .and_then(|(_, p)| p.location.as_ref())
    }

    /// Where the program's closure at or just below the object is (a listener record's
    /// callback, a timer's `_onTimeout`), searched breadth-first a few references deep.
    pub fn callback(&self) -> Option<&SourceLocation> {
        self.callback
            .get_or_init(|| {
                let closure = closure_below(self.locator, self.object().node)?;
                user_location(self.locator, closure)
            })
            .as_ref()
    }

    /// The callback's own name ([`SuspectFacts::callback`]), when the program can name it
    /// to pass it back: a declared function or one assigned to a variable, not a named
    /// function written inline as a call's argument (read from its script, when readable).
    pub fn callback_name(&self) -> Option<String> {
        let at = self.callback()?;
        let name = at.function.clone()?;
        let inline = crate::leaks::source::read_script(&at.file).is_some_and(|text| {
            let position = crate::leaks::source::LineColumn {
                line: at.line,
                column: at.column,
            };
            crate::leaks::source::is_call_argument(&text, position)
        });
        (!inline).then_some(name)
    }

    /// The object's first property holding an object of one of `classes`: the property's
    /// name and that object's class (a record `{ res, timer }` holding a `ServerResponse`).
    pub fn property_of_class(&self, classes: &[&str]) -> Option<(&'a str, &'a str)> {
        let g = self.graph();
        g.edges_of(self.object().node)
            .filter(|&e| g.edge_type(e) == EdgeType::Property)
            .find_map(|e| {
                let class = self.locator.class_of(g.edge_target(e));
                classes
                    .contains(&class)
                    .then(|| (g.edge_name(e).unwrap_or(""), class))
            })
    }

    /// The async functions suspended at an `await` of the promise at `index`: V8 keeps a
    /// pending promise's reactions (`reactions_or_result`, a chain of `PromiseReaction`s),
    /// whose handlers are the await's resume closures; their scope's `extension` is the
    /// suspended call (a generator object: its `function`, its `parameters_and_registers`).
    /// Each function's position (in the script that runs) and how many of its calls wait,
    /// most first. Visits at most `MAX_VISITS` nodes: a long chain is sampled from its head.
    pub fn suspended_functions(&self, index: usize) -> Vec<(SourceLocation, u64)> {
        const MAX_VISITS: usize = 200_000;
        let g = self.graph();
        let Some(promise) = self.nodes.get(index).map(|p| p.node) else {
            return Vec::new();
        };
        let named = |n: NodeIndex, name: &str| {
            g.edges_of(n)
                .find(|&e| g.edge_name(e) == Some(name))
                .map(|e| g.edge_target(e))
        };
        let mut seen: crate::hash::FastSet<NodeIndex> = Default::default();
        let mut counts: Vec<(NodeIndex, u64)> = Vec::new();
        let mut stack: Vec<NodeIndex> = named(promise, "reactions_or_result").into_iter().collect();
        while let Some(v) = stack.pop() {
            if seen.len() >= MAX_VISITS || !seen.insert(v) {
                continue;
            }
            match g.node_type(v) {
                // A reaction: the next one, its handlers (closures) and its promise.
                NodeType::Hidden => stack.extend(
                    g.edges_of(v)
                        .filter(|&e| g.edge_type(e) == EdgeType::Hidden)
                        .map(|e| g.edge_target(e))
                        .filter(|&t| {
                            matches!(g.node_type(t), NodeType::Hidden | NodeType::Closure)
                        }),
                ),
                // An await's resume closure: its scope's extension is the suspended call.
                NodeType::Closure => {
                    let call = named(v, "context").and_then(|c| named(c, "extension"));
                    // (its resolve and reject closures share the scope: one call)
                    let function = call
                        .filter(|&c| named(c, "parameters_and_registers").is_some())
                        .filter(|&c| seen.insert(c))
                        .and_then(|c| named(c, "function"));
                    if let Some(f) = function {
                        match counts.iter_mut().find(|(x, _)| *x == f) {
                            Some((_, k)) => *k += 1,
                            None => counts.push((f, 1)),
                        }
                    }
                }
                _ => {}
            }
        }
        counts.sort_by_key(|&(_, k)| std::cmp::Reverse(k));
        counts
            .into_iter()
            .filter_map(|(f, k)| Some((user_location(self.locator, f)?, k)))
            .collect()
    }

    /// A location in the script that runs, as people read it (source-mapped, relative).
    pub fn display(&self, loc: SourceLocation) -> SourceLocation {
        self.locator.display(loc)
    }

    /// Whether the timer at or just below the object (a `Timeout`, or the first one a
    /// `TimersList` links to) repeats: Node sets its `_repeat` to `null` for `setTimeout` and
    /// to the interval's duration (a number, which the snapshot may leave out) for
    /// `setInterval`. `None` when there is no such timer.
    pub fn timer_repeats(&self) -> Option<bool> {
        let g = self.graph();
        let property = |n: NodeIndex, name: &str| {
            g.edges_of(n)
                .find(|&e| g.edge_type(e) == EdgeType::Property && g.edge_name(e) == Some(name))
                .map(|e| g.edge_target(e))
        };
        let object = self.object().node;
        let timer = match self.object().class {
            "Timeout" => object,
            "TimersList" => {
                property(object, "_idleNext").filter(|&t| self.locator.class_of(t) == "Timeout")?
            }
            _ => return None,
        };
        let Some(repeat) = property(timer, "_repeat") else {
            return Some(true);
        };
        // An oddball (`null`, `undefined`) names itself through its first hidden string.
        let is_null = g.node_type(repeat) == NodeType::Hidden
            && g.edges_of(repeat)
                .map(|e| g.edge_target(e))
                .any(|v| g.node_type(v).is_string() && g.node_name(v) == "null");
        Some(!is_null)
    }

    /// Whether V8 probably keeps the node at `index` as a dictionary: it switches an object
    /// to dictionary mode beyond a few dozen added properties or after deletes, and its keys
    /// are then data (user ids, request ids), not structure. The snapshot shows that as
    /// many property edges.
    pub fn is_dictionary(&self, index: usize) -> bool {
        const DICTIONARY_KEYS: usize = 32;
        let g = self.graph();
        g.edges_of(self.nodes[index].node)
            .filter(|&e| g.edge_type(e) == EdgeType::Property)
            .take(DICTIONARY_KEYS)
            .count()
            >= DICTIONARY_KEYS
    }

    /// The key of the listener list an EventTarget keeps under `nodes[..=upto]`: its
    /// listeners map's hash table stores each key in the slot before its value. The first
    /// table on the way up decides.
    pub fn table_key_below(&self, upto: usize) -> Option<String> {
        let g = self.graph();
        for k in 1..=upto {
            let table = &self.nodes[k];
            let Some(below) = self.nodes[k - 1].held_as else {
                continue;
            };
            if g.node_type(table.node) != NodeType::Array || below.kind != EdgeType::Internal {
                continue;
            }
            let slot: u32 = below.name?.parse().ok()?;
            let key_slot = slot.checked_sub(1)?.to_string();
            let key = g
                .edges_of(table.node)
                .find(|&e| {
                    g.edge_type(e) == EdgeType::Internal
                        && g.edge_name(e) == Some(key_slot.as_str())
                })
                .map(|e| g.edge_target(e))?;
            if g.node_type(key).is_string() {
                return Some(g.node_name(key).to_string());
            }
        }
        None
    }

    /// The object's own scope, when it is a closure whose scope no other function shares.
    pub fn scope_capture(&self) -> Option<ScopeCapture> {
        let a = self.analysis();
        let g = &a.graph;
        let closure = self.object().node;
        if g.node_type(closure) != NodeType::Closure {
            return None;
        }
        let internal = |v: NodeIndex, name: &str| {
            g.edges_of(v)
                .find(|&e| g.edge_type(e) == EdgeType::Internal && g.edge_name(e) == Some(name))
                .map(|e| g.edge_target(e))
        };
        let mut context = internal(closure, "context")?;
        let dom = &a.dominators;
        if dom.idom[context as usize] != closure {
            return None; // the scope is shared with others: not this closure's bytes
        }
        // The closure's own scope and the scopes around it that only it keeps (a callback
        // made in a `catch` block has the block's scope, inside the function's).
        let mut captured: Vec<Captured> = Vec::new();
        loop {
            captured.extend(
                g.edges_of(context)
                    .filter(|&e| g.edge_type(e) == EdgeType::Context)
                    .filter(|&e| dom.idom[g.edge_target(e) as usize] == context)
                    .map(|e| Captured {
                        name: g.edge_name(e).unwrap_or("").to_string(),
                        bytes: dom.retained[g.edge_target(e) as usize],
                    }),
            );
            match internal(context, "previous") {
                Some(outer) if dom.idom[outer as usize] == context => context = outer,
                _ => break,
            }
        }
        captured.sort_by_key(|c| std::cmp::Reverse(c.bytes));
        Some(ScopeCapture {
            captured,
            closure_retains: dom.retained[closure as usize],
        })
    }

    /// The function's name, for a closure object.
    pub fn function_name(&self) -> Option<String> {
        let g = self.graph();
        let n = self.object().node;
        (g.node_type(n) == NodeType::Closure && !g.node_name(n).is_empty())
            .then(|| g.node_name(n).to_string())
    }
}

fn node_kind(g: &HeapGraph, n: NodeIndex) -> NodeKind {
    match g.node_type(n) {
        NodeType::Closure => NodeKind::Closure,
        t if t.is_string() => NodeKind::String,
        _ if g.node_name(n) == "system / Context" => NodeKind::Scope,
        _ if is_storage(g, n) => NodeKind::Storage,
        _ => NodeKind::Other,
    }
}

/// Where a node's code is, when it is the program's own (not Node's internals), in the
/// script that runs.
fn user_location(locator: &Locator, n: NodeIndex) -> Option<SourceLocation> {
    locator.script_location(n).filter(|l| !l.is_runtime())
}

/// The first of the program's closures at or just below `n`, breadth-first, three
/// references deep at most, through properties, internal slots and elements.
fn closure_below(locator: &Locator, n: NodeIndex) -> Option<NodeIndex> {
    let g = &locator.analysis().graph;
    let mut frontier = vec![n];
    for _ in 0..3 {
        let mut next = Vec::new();
        for &v in &frontier {
            if g.node_type(v) == NodeType::Closure && user_location(locator, v).is_some() {
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
