//! Allocation stacks: where the leaked objects were created, when the snapshots were taken
//! with allocation tracking on (`hunt` turns it on; `node --track-heap-objects`; DevTools'
//! allocation instrumentation).
//!
//! A suspect's leaked objects (its leak roots new since the first snapshot; for a collection
//! growing by itself, its new storage and entries) are grouped by the first frame of their
//! stack in the program's own code, the suspect's own class first (see [`ranking`]), and
//! counted. Frames name functions; each frame's line is turned into the statement it stands
//! for (the call of the next frame, or in the innermost frame the creation of the object) by
//! reading the function's text, then mapped through source maps.
//!
//! Which objects carry a trace: V8 records a stack for each allocation it sees while
//! tracking, by address. Optimized code hides two things from it: allocation-site
//! pretenuring puts objects that tend to survive (a leak's) straight into the old generation
//! unseen, and those objects then show the stale trace of a dead object that had their
//! address (a socket's, a parser's); inlining drops the inlined function's frame. `hunt`
//! turns both off in the target when it connects (`crates/hunt/src/tracking.rs`); then V8
//! keeps a trace for nearly every object made while tracking (197 of 200 in a handler V8
//! had optimized, against 1 before), so tracking the tail of the last round is enough.
//! Snapshots recorded without that (`node --track-heap-objects` on optimized code) may carry
//! stale traces, which the own-class order and the runtime-noise rule keep out of the top.
//! V8's sampling heap profiler was not used as a second source: its samples name no heap
//! object, so they cannot be told apart by suspect.
//!
//! The statement in the first frame of the user's own code (not `node_modules`, not the
//! runtime's `node:` scripts) becomes the suspect's `location` when the rules found no place
//! in the program (see [`apply`]). When the objects are created inside a library, or stored
//! there (the collection's storage grew inside a library function), that library's
//! statement is `library_location`.

mod ranking;
mod statement;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use leakhunt_engine::fold::is_storage;
use leakhunt_engine::graph::{EdgeType, HeapGraph};
use leakhunt_engine::traces::TraceFunction;
use leakhunt_engine::{Analysis, NodeIndex};
use leakhunt_findings::{AllocationStack, SourceLocation, Suspect};

use super::anchors::AnchoredKeys;
use super::facts::Facts;
use super::source::{read_script, LineColumn};
use crate::hash::FastMap;
use crate::locator::Locator;
use ranking::{GroupKey, Traced};
use statement::Needle;

/// Stacks shown per suspect.
const TOP_STACKS: usize = 3;
/// Frames kept per stack: the app's frames are near the top; past these come the
/// runtime's (the HTTP parser, the event loop), which say nothing about the leak.
const MAX_FRAMES: usize = 12;
/// Methods that grow a collection's storage, for the statement that stores in a library.
const GROWING_METHODS: &[&str] = &["push", "set", "add", "unshift", "splice", "concat"];

/// What the stacks say about one suspect.
#[derive(Debug, Default)]
pub struct StackFindings {
    pub stacks: Vec<AllocationStack>,
    /// The statement in the user's code (first frame outside libraries and the runtime).
    pub location: Option<SourceLocation>,
    pub library_location: Option<SourceLocation>,
}

/// The leaked objects of every suspect, found once per diagnosis.
pub struct LeakedObjects<'a> {
    last: &'a Analysis,
    first: &'a Facts,
    /// Traced leak roots by anchor.
    by_anchor: FastMap<NodeIndex, Vec<NodeIndex>>,
}

impl<'a> LeakedObjects<'a> {
    /// `None` when the last snapshot has no allocation stacks (nothing to do, nothing spent).
    pub fn new(
        last: &'a Analysis,
        keys: &AnchoredKeys,
        leak_roots: &[NodeIndex],
        first: &'a Facts,
    ) -> Option<LeakedObjects<'a>> {
        let g = &last.graph;
        if !g.has_allocation_traces() {
            return None;
        }
        let mut by_anchor: FastMap<NodeIndex, Vec<NodeIndex>> = FastMap::default();
        for &root in leak_roots {
            if g.trace_node_id(root) != 0 {
                by_anchor
                    .entry(keys.anchor[root as usize])
                    .or_default()
                    .push(root);
            }
        }
        Some(LeakedObjects {
            last,
            first,
            by_anchor,
        })
    }

    fn is_new(&self, n: NodeIndex) -> bool {
        !self.first.has_id(self.last.graph.node_id(n))
    }

    /// The objects a suspect's growth is made of: its anchor's leak roots, or for a
    /// collection growing by itself, what is new in and right under it (its storage, the
    /// entries' keys and values).
    fn of_suspect(
        &self,
        anchor: NodeIndex,
        object: NodeIndex,
        is_collection: bool,
    ) -> Vec<NodeIndex> {
        if !is_collection {
            return self.by_anchor.get(&anchor).cloned().unwrap_or_default();
        }
        let g = &self.last.graph;
        let mut out = Vec::new();
        let mut level = vec![object];
        for _ in 0..2 {
            let mut next = Vec::new();
            for &n in &level {
                for e in g.edges_of(n) {
                    if g.edge_type(e) == EdgeType::Weak {
                        continue;
                    }
                    let t = g.edge_target(e);
                    if self.is_new(t) && g.trace_node_id(t) != 0 {
                        out.push(t);
                    }
                    if is_storage(g, t) {
                        next.push(t);
                    }
                }
            }
            level = next;
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The storage that holds the representative object (a new backing store of the
    /// collection it sits in, or the collection's own when V8 shows entries on the
    /// collection itself): where that collection grew, by its own stack.
    fn storage_holding(&self, object: NodeIndex) -> Option<NodeIndex> {
        let g = &self.last.graph;
        let traced_new = |n: NodeIndex| self.is_new(n) && g.trace_node_id(n) != 0;
        let path = self.last.shortest_path(object)?;
        path.steps.iter().take(3).find_map(|s| {
            let h = s.holder;
            if is_storage(g, h) && traced_new(h) {
                return Some(h);
            }
            g.edges_of(h)
                .filter(|&e| g.edge_type(e) == EdgeType::Internal)
                .map(|e| g.edge_target(e))
                .find(|&t| is_storage(g, t) && traced_new(t))
        })
    }
}

/// Turns V8's frames into statements and places people read, reading each script once.
pub struct StackReader<'l, 'a> {
    locator: &'l Locator<'a>,
    scripts: RefCell<HashMap<String, Option<Rc<str>>>>,
}

/// One frame: the function's name and its place in the script that runs (1-based).
struct Frame {
    function: String,
    script: String,
    at: LineColumn,
}

impl<'l, 'a> StackReader<'l, 'a> {
    pub fn new(locator: &'l Locator<'a>) -> StackReader<'l, 'a> {
        StackReader {
            locator,
            scripts: RefCell::default(),
        }
    }

    /// The stacks of a suspect's leaked objects, and the places they point at.
    pub fn explain(
        &self,
        leaked: &LeakedObjects,
        anchor: NodeIndex,
        object: NodeIndex,
        is_collection: bool,
        class: &str,
    ) -> StackFindings {
        let a = leaked.last;
        let g = &a.graph;
        let objects = leaked.of_suspect(anchor, object, is_collection);
        let own_class = self.own_class(a, object, &objects, is_collection);
        let traced: Vec<Traced> = objects
            .iter()
            .map(|&n| Traced {
                trace: g.trace_node_id(n),
                bytes: bytes_held(a, n),
                own: self.locator.class_of(n) == own_class,
            })
            .collect();
        let groups = ranking::rank(&traced, TOP_STACKS, |trace| {
            self.group_key(trace, &self.frames(g, trace))
        });
        let mut findings = StackFindings::default();
        for (i, group) in groups.iter().enumerate() {
            let (trace, count, bytes) = (group.trace, group.count, group.bytes);
            let frames = self.frames(g, trace);
            // The innermost frame created the object: its statement is the creation.
            let creating = if is_collection {
                Needle::AnyMethod(GROWING_METHODS)
            } else {
                match Needle::creating(class) {
                    Some(n) => n,
                    None => Needle::ObjectLiteral,
                }
            };
            let shown = self.statements(&frames, creating.clone());
            if i == 0 {
                let (user, library) = user_and_library(&shown);
                // A stack of neighbours only (a URL parsed beside the leaked objects, a
                // request's headers, a framework's elements) says where those were made,
                // not the leak: it is shown, never the place.
                if group.own_bytes > 0 && self.makes(&frames, &creating) {
                    findings.location = user.cloned();
                    findings.library_location = library.cloned();
                }
            }
            findings.stacks.push(AllocationStack {
                count,
                bytes,
                frames: shown.into_iter().take(MAX_FRAMES).collect(),
            });
        }
        if findings.library_location.is_none() && !is_collection {
            // Created in the app but stored by a library: the library function that grew
            // the storage holding it.
            if let Some(storage) = leaked.storage_holding(object) {
                let frames = self.frames(g, g.trace_node_id(storage));
                let shown = self.statements(&frames, Needle::AnyMethod(GROWING_METHODS));
                let innermost_code = shown.iter().find(|f| !f.is_runtime());
                if let Some(lib) = innermost_code.filter(|f| in_library(&f.file)) {
                    findings.library_location = Some(lib.clone());
                    if findings.location.is_none() {
                        findings.location = user_and_library(&shown).0.cloned();
                    }
                }
            }
        }
        if findings.library_location.is_none() && !findings.stacks.is_empty() {
            // The storage grew before V8 was tracking: the collection's holder, when a
            // library's object, and the line of its code that grows the collection.
            findings.library_location = self.library_holder(a, object);
        }
        findings
    }

    /// The class the suspect's growth is made of: the representative object's, or for a
    /// collection (whose own class does not grow) the class holding most of the new bytes in
    /// it. Objects of other classes among the leaked ones are neighbours (keys, headers).
    fn own_class(
        &self,
        a: &Analysis,
        object: NodeIndex,
        objects: &[NodeIndex],
        is_collection: bool,
    ) -> &'a str {
        if !is_collection {
            return self.locator.class_of(object);
        }
        let mut by_class: FastMap<&str, u64> = FastMap::default();
        for &n in objects.iter().filter(|&&n| !is_storage(&a.graph, n)) {
            *by_class.entry(self.locator.class_of(n)).or_default() += bytes_held(a, n);
        }
        by_class
            .into_iter()
            .max_by(|x, y| x.1.cmp(&y.1).then(y.0.cmp(x.0)))
            .map_or("", |(class, _)| class)
    }

    /// The group a trace's stack falls in (see [`ranking`]): its first frame in the
    /// program's code, as source maps place it (a bundle's frame may be a library's), and
    /// the function that frame calls; `None` when every frame is the runtime's.
    fn group_key(&self, trace: u32, frames: &[Frame]) -> Option<GroupKey> {
        let shown: Vec<SourceLocation> = frames
            .iter()
            .take(MAX_FRAMES)
            .map(|f| {
                self.locator.display(SourceLocation {
                    file: f.script.clone(),
                    line: f.at.line,
                    column: f.at.column,
                    function: None,
                })
            })
            .collect();
        if shown.iter().all(SourceLocation::is_runtime) {
            return None;
        }
        let Some(u) = shown
            .iter()
            .position(|f| !f.is_runtime() && !in_library(&f.file))
        else {
            return Some(GroupKey::Trace(trace));
        };
        let calls = u.checked_sub(1).map(|inner| frames[inner].function.clone());
        let at = &shown[u];
        Some(GroupKey::Program {
            script: at.file.clone(),
            line: at.line,
            column: at.column,
            calls: calls.unwrap_or_default(),
        })
    }

    /// The first holder on the object's path that is an object of a library's class and
    /// holds the collection by a named property: the line of that library's file that
    /// grows that property (`items.push(`), or its class's position.
    fn library_holder(&self, a: &Analysis, object: NodeIndex) -> Option<SourceLocation> {
        let g = &a.graph;
        let path = a.shortest_path(object)?;
        for step in path.steps.iter().take(4) {
            let Some(name) = g.edge_name(step.edge) else {
                continue;
            };
            let Some(class_at) = self.locator.script_location(step.holder) else {
                continue;
            };
            let shown = self.locator.display(class_at.clone());
            if !in_library(&shown.file) {
                continue;
            }
            let found = self.script(&class_at.file).and_then(|text| {
                let query = super::source::GrowthQuery {
                    receiver: super::source::Receiver::Property(name),
                    methods: GROWING_METHODS,
                    near: Some(super::source::LineColumn {
                        line: class_at.line,
                        column: class_at.column,
                    }),
                };
                super::source::find_growth_site(&text, &query)
            });
            let at = match found {
                Some(site) => SourceLocation {
                    line: site.at.line,
                    column: site.at.column,
                    function: site.function,
                    ..class_at
                },
                None => class_at,
            };
            return Some(self.locator.display(at));
        }
        None
    }

    fn frames(&self, g: &HeapGraph, trace: u32) -> Vec<Frame> {
        g.traces()
            .stack(trace)
            .into_iter()
            // Builtins (`set`, `push`) have no script and no position: nothing to show.
            .filter(|f| f.script_name != 0 && !g.string(f.script_name).is_empty())
            .map(|f: TraceFunction| Frame {
                function: g.string(f.name).to_string(),
                script: g.string(f.script_name).to_string(),
                at: LineColumn {
                    line: f.line,
                    column: f.column,
                },
            })
            .collect()
    }

    /// Each frame as the statement it stands for, as people read it: the innermost finds
    /// `creating`, the others the call of the frame inside them.
    /// Whether a stack can have made an object of the suspect's class: for a class made
    /// with `new`, its constructor is among the innermost frames (a base class's
    /// constructor allocates, the derived one calls it) or the innermost statement says
    /// `new Class(`. V8 keeps a trace by address, so an object allocated where it did not
    /// look can carry the trace of an earlier object at the same address: such a stack
    /// names code that never made one.
    fn makes(&self, frames: &[Frame], creating: &Needle) -> bool {
        const CONSTRUCTOR_DEPTH: usize = 4;
        let Needle::New(class) = creating else {
            return true;
        };
        let Some(innermost) = frames.first() else {
            return false;
        };
        frames
            .iter()
            .take(CONSTRUCTOR_DEPTH)
            .any(|f| f.function == *class)
            || self
                .find(&innermost.script, innermost.at, creating)
                .is_some()
    }

    fn statements(&self, frames: &[Frame], creating: Needle) -> Vec<SourceLocation> {
        let mut out = Vec::with_capacity(frames.len().min(MAX_FRAMES + 1));
        for (i, f) in frames.iter().enumerate().take(MAX_FRAMES + 1) {
            let needle = if i == 0 {
                Some(creating.clone())
            } else {
                Needle::calling(&frames[i - 1].function)
            };
            let at = needle
                .and_then(|n| self.find(&f.script, f.at, &n))
                .unwrap_or(f.at);
            out.push(self.locator.display(SourceLocation {
                file: f.script.clone(),
                line: at.line,
                column: at.column,
                function: Some(f.function.clone()).filter(|n| !n.is_empty()),
            }));
        }
        out
    }

    fn find(&self, script: &str, at: LineColumn, needle: &Needle) -> Option<LineColumn> {
        if at.line == 0 || script.is_empty() || script.starts_with("node:") {
            return None;
        }
        let text = self.script(script)?;
        statement::find(&text, at, needle)
    }

    fn script(&self, script: &str) -> Option<Rc<str>> {
        self.scripts
            .borrow_mut()
            .entry(script.to_string())
            .or_insert_with(|| read_script(script).map(Rc::from))
            .clone()
    }
}

/// Puts what the stacks found into the suspect. The stacks' place (the first frame in the
/// program's own code) is used when the rules found none there: no place at all (a
/// collection only Node's code holds), or one inside a library or the runtime (the line a
/// library stores at, which `library_location` keeps). A place the rules found in the
/// program stays: V8 keeps traces only for a sample of the objects made shortly before the
/// snapshot (a few in a hundred of those that survive), and the sample's most common stack
/// is often a neighbour's (the key strings of a Map, a response's headers), where the
/// rules read the line that registers the listener or grows the collection. The stacks are
/// shown beside it either way.
pub fn apply(found: StackFindings, suspect: &mut Suspect) {
    suspect.allocation_stacks = found.stacks;
    let rules_found_program_code = suspect
        .location
        .as_ref()
        .is_some_and(|l| !l.is_runtime() && !in_library(&l.file));
    if let (Some(location), false) = (found.location, rules_found_program_code) {
        suspect.location = Some(location);
    }
    suspect.library_location = found.library_location;
}

/// The bytes a leaked object accounts for: what it retains, but for a collection's storage
/// only itself (it retains the entries, counted on their own).
fn bytes_held(a: &Analysis, n: NodeIndex) -> u64 {
    if is_storage(&a.graph, n) {
        a.graph.self_size(n)
    } else {
        a.dominators.retained[n as usize]
    }
}

/// A library's code: a package installed under `node_modules`.
fn in_library(file: &str) -> bool {
    file.starts_with("node_modules/") || file.contains("/node_modules/")
}

/// The first frame of the user's own code, and the innermost library frame inside it (the
/// library code the user's call reached, where the object was made).
fn user_and_library(
    frames: &[SourceLocation],
) -> (Option<&SourceLocation>, Option<&SourceLocation>) {
    let user = frames
        .iter()
        .position(|f| !f.is_runtime() && !in_library(&f.file));
    let library = frames[..user.unwrap_or(frames.len())]
        .iter()
        .find(|f| in_library(&f.file));
    (user.map(|u| &frames[u]), library)
}

#[cfg(test)]
mod tests;
