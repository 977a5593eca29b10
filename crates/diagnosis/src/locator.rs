//! Objects and places as every report shows them: the one way from a node of the analysed
//! graph to a [`HeapObject`], a [`RetainerPath`] and a [`SourceLocation`]. Positions go through
//! the scripts' source maps (TypeScript, bundles) and paths are made relative to a root
//! folder (the current directory, or the service's) when inside it, so `leaks`, `hunt` and
//! `retainers` name the same place for the same object.
//!
//! Leak rules work with the JavaScript that runs (they read it to find the line that grows a
//! collection): [`Locator::script_location`] gives that; everything shown goes through
//! [`Locator::display`].

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use leakhunt_engine::graph::{EdgeType, HeapGraph, NodeType};
use leakhunt_engine::retainers::Step;
use leakhunt_engine::{Analysis, Locations, NodeIndex};
use leakhunt_findings::{
    EdgeKind, HeapObject, PathStep, RetainedObject, RetainerPath, SourceLocation,
};

use crate::source_map::SourceMaps;

pub struct Locator<'a> {
    a: &'a Analysis,
    locations: Locations,
    maps: RefCell<SourceMaps>,
    root: Option<PathBuf>,
    /// Scope (context node) → the file of a function that uses it.
    scope_files: RefCell<HashMap<NodeIndex, Option<String>>>,
}

impl<'a> Locator<'a> {
    /// `maps`: source maps known so far (the inspector may have announced some; the rest are
    /// found next to the scripts). `root` defaults to the current directory.
    pub fn new(a: &'a Analysis, maps: SourceMaps, root: Option<PathBuf>) -> Locator<'a> {
        Locator {
            a,
            locations: Locations::new(&a.graph),
            maps: RefCell::new(maps),
            root: root.or_else(|| std::env::current_dir().ok()),
            scope_files: RefCell::default(),
        }
    }

    pub fn analysis(&self) -> &'a Analysis {
        self.a
    }

    /// Where a node's code is in the script that runs (a function's position, an object's
    /// constructor's), with the script's path as the snapshot names it: what rules read.
    pub fn script_location(&self, n: NodeIndex) -> Option<SourceLocation> {
        let l = self.locations.of_node(&self.a.graph, n)?;
        Some(SourceLocation {
            file: l.file,
            line: l.line,
            column: l.column,
            function: l.function,
        })
    }

    /// Where a node's code is, as people read it (see [`Locator::display`]).
    pub fn location(&self, n: NodeIndex) -> Option<SourceLocation> {
        self.script_location(n).map(|l| self.display(l))
    }

    /// A position in a running script as people read it: in the original source when the
    /// script has a source map, with its path for display.
    pub fn display(&self, loc: SourceLocation) -> SourceLocation {
        let mapped = self
            .maps
            .borrow_mut()
            .original(&loc.file, loc.line, loc.column);
        match mapped {
            Some(p) => SourceLocation {
                file: self.display_file(&p.file),
                line: p.line,
                column: p.column,
                function: loc.function.or(p.name),
            },
            None => SourceLocation {
                file: self.display_file(&loc.file),
                ..loc
            },
        }
    }

    /// Warnings about source maps found but unable to place a position (one per script),
    /// taken: what the report's notes say.
    pub fn source_map_warnings(&self) -> Vec<String> {
        let warnings = self.maps.borrow_mut().take_warnings();
        warnings
            .iter()
            .map(|w| w.text(|script| self.display_file(script)))
            .collect()
    }

    /// A script path as a person would type it: relative to the root when inside it,
    /// `file://` URLs as paths.
    pub fn display_file(&self, file: &str) -> String {
        let path = file.strip_prefix("file://").unwrap_or(file);
        if let Some(root) = &self.root {
            if let Ok(rel) = Path::new(path).strip_prefix(root) {
                return rel.display().to_string();
            }
        }
        path.to_string()
    }

    /// The file of the scope `context`, found by `find` the first time it is asked for.
    pub fn scope_file(
        &self,
        context: NodeIndex,
        find: impl FnOnce() -> Option<String>,
    ) -> Option<String> {
        if let Some(known) = self.scope_files.borrow().get(&context) {
            return known.clone();
        }
        let file = find();
        self.scope_files.borrow_mut().insert(context, file.clone());
        file
    }

    /// The class a node is counted under in the Summary view.
    pub fn class_of(&self, n: NodeIndex) -> &'a str {
        let c = &self.a.classes;
        c.name(c.class_of(&self.a.graph, n))
    }

    /// A node as a person recognises it: id, class, what tells it apart, where its code is.
    pub fn object(&self, n: NodeIndex) -> HeapObject {
        HeapObject {
            id: self.a.graph.node_id(n),
            class: self.class_of(n).to_string(),
            name: self.distinguishing_name(n),
            location: self.location(n),
        }
    }

    /// What tells a node apart within its class: a function's name, a string's text, an
    /// internal array's kind, a synthetic root's name. Objects of a class are told apart by
    /// their id only.
    fn distinguishing_name(&self, n: NodeIndex) -> Option<String> {
        let g = &self.a.graph;
        let name = g.node_name(n);
        let distinct = match g.node_type(n) {
            NodeType::Closure | NodeType::Synthetic => !name.is_empty(),
            t if t.is_string() => true,
            NodeType::Array | NodeType::Hidden | NodeType::Code => {
                !name.is_empty() && name != self.class_of(n)
            }
            _ => false,
        };
        distinct.then(|| name.to_string())
    }

    /// One reference of a path.
    pub fn step(&self, s: Step) -> PathStep {
        let g = &self.a.graph;
        let holder = self.object(s.holder);
        PathStep {
            edge: edge_name(g, s.edge),
            edge_type: edge_kind(g.edge_type(s.edge)),
            holder_id: holder.id,
            holder_class: holder.class,
            holder_name: holder.name,
            location: holder.location,
        }
    }

    /// A path of the engine as people read it. It ends where the GC roots hold it: the
    /// snapshot's synthetic root and V8's `(GC roots)` node are not steps.
    pub fn path(&self, p: &leakhunt_engine::RetainerPath) -> RetainerPath {
        let g = &self.a.graph;
        RetainerPath {
            object: self.object(p.target),
            steps: p
                .steps
                .iter()
                .take_while(|s| {
                    s.holder != HeapGraph::ROOT && g.node_name(s.holder) != "(GC roots)"
                })
                .map(|&s| self.step(s))
                .collect(),
        }
    }

    /// The shortest path to `n` (no steps when nothing reaches it).
    pub fn shortest_path(&self, n: NodeIndex) -> RetainerPath {
        match self.a.shortest_path(n) {
            Some(p) => self.path(&p),
            None => RetainerPath {
                object: self.object(n),
                steps: Vec::new(),
            },
        }
    }

    /// `n` with its sizes and up to `k` paths, through distinct direct holders.
    pub fn retained_object(&self, n: NodeIndex, k: usize) -> RetainedObject {
        let a = self.a;
        RetainedObject {
            object: self.object(n),
            self_size: a.graph.self_size(n),
            retained_size: a.dominators.retained[n as usize],
            distance: a.distances.user_distance(n),
            paths: a
                .retainer_paths(n, k)
                .iter()
                .map(|p| self.path(p))
                .collect(),
        }
    }
}

/// The edge's name, or its index as text for elements and hidden slots.
fn edge_name(g: &HeapGraph, e: u32) -> String {
    match g.edge_name(e) {
        Some(name) => name.to_string(),
        None => g.edge_name_or_index(e).to_string(),
    }
}

fn edge_kind(t: EdgeType) -> EdgeKind {
    match t {
        EdgeType::Context => EdgeKind::Context,
        EdgeType::Element => EdgeKind::Element,
        EdgeType::Property => EdgeKind::Property,
        EdgeType::Internal => EdgeKind::Internal,
        EdgeType::Hidden => EdgeKind::Hidden,
        EdgeType::Shortcut => EdgeKind::Shortcut,
        EdgeType::Weak => EdgeKind::Weak,
        EdgeType::Unknown => EdgeKind::Unknown,
    }
}
