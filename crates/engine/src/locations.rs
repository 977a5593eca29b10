//! Where in the source an object comes from.
//!
//! V8 records, in `snapshot.locations`, a script id, line and column for every function and
//! for every object whose constructor is a user function (the constructor's position). The
//! script id is a number; the script's path is not stored next to it, but each function's
//! `SharedFunctionInfo` points (edge `script_or_debug_info`, `script` in older V8) at the
//! script object, whose name is the path or URL. So the path of a script id is learnt from
//! any function of that script.

use std::collections::HashMap;

use crate::graph::{EdgeType, HeapGraph, NodeIndex, NodeType};

/// A position in a script, 1-based as editors show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceLocation {
    /// Path or URL of the script (`node:internal/...` for Node's own code); empty when the
    /// snapshot does not say.
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// The function (for closures) or constructor (for objects), when it has a name.
    pub function: Option<String>,
    /// V8's script id, to match `Debugger.scriptParsed` events.
    #[serde(skip)]
    pub script_id: u32,
}

impl SourceLocation {
    /// `file:line:column`.
    pub fn position(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.column)
    }
}

pub struct Locations {
    /// Node → (script id, 0-based line, 0-based column).
    by_node: HashMap<NodeIndex, (u32, u32, u32)>,
    scripts: HashMap<u32, String>,
}

/// The script a function belongs to: closure → `shared` → `script_or_debug_info`/`script`.
fn script_of_closure(g: &HeapGraph, closure: NodeIndex) -> Option<String> {
    let shared = find_edge(g, closure, "shared")?;
    let script =
        find_edge(g, shared, "script_or_debug_info").or_else(|| find_edge(g, shared, "script"))?;
    let name = g.node_name(script);
    // With a debugger attached this slot can hold a DebugInfo, which points on to the script.
    if name.starts_with("system / ") {
        let inner = find_edge(g, script, "script")?;
        return Some(g.node_name(inner).to_string());
    }
    Some(name.to_string())
}

fn find_edge(g: &HeapGraph, from: NodeIndex, name: &str) -> Option<NodeIndex> {
    g.edges_of(from)
        .find(|&e| g.edge_type(e) == EdgeType::Internal && g.edge_name(e) == Some(name))
        .map(|e| g.edge_target(e))
}

impl Locations {
    pub fn new(g: &HeapGraph) -> Locations {
        let mut by_node = HashMap::with_capacity(g.locations().len());
        let mut scripts: HashMap<u32, String> = HashMap::new();
        for l in g.locations() {
            by_node.insert(l.node, (l.script_id, l.line, l.column));
            if !scripts.contains_key(&l.script_id) && g.node_type(l.node) == NodeType::Closure {
                if let Some(path) = script_of_closure(g, l.node) {
                    scripts.insert(l.script_id, path);
                }
            }
        }
        Locations { by_node, scripts }
    }

    /// The path V8 knows for a script id.
    pub fn script_path(&self, script_id: u32) -> Option<&str> {
        self.scripts.get(&script_id).map(String::as_str)
    }

    /// The source position of a function, or of an object's constructor.
    pub fn of_node(&self, g: &HeapGraph, n: NodeIndex) -> Option<SourceLocation> {
        let &(script_id, line, column) = self.by_node.get(&n)?;
        let function = match g.node_type(n) {
            NodeType::Closure | NodeType::Object => {
                Some(g.node_name(n).to_string()).filter(|s| !s.is_empty())
            }
            _ => None,
        };
        Some(SourceLocation {
            file: self.scripts.get(&script_id).cloned().unwrap_or_default(),
            line: line + 1,
            column: column + 1,
            function,
            script_id,
        })
    }
}
