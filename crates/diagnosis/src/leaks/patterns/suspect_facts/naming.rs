//! Naming and placing a suspect's holders: the variable, export or property that holds the
//! growth (`owner`), the line that grows a collection (`growth_site`), and the function
//! and module those are in, read from the snapshot's scopes and the scripts' text.

use leakhunt_engine::graph::{EdgeType, NodeType};
use leakhunt_engine::NodeIndex;
use leakhunt_findings::{Owner, OwnerKind, SourceLocation};

use super::{user_location, NodeKind, PathNode, SuspectFacts};
use crate::leaks::{enclosing, source};

impl<'a> SuspectFacts<'a> {
    /// Names the node at `index` by how it is held: a module's variable (`userCache` in
    /// `src/cache.js`), a property of an object in a variable (`channels.news`), a module's
    /// export, a class's static field (`QueryCache.entries`).
    pub fn owner(&self, index: usize) -> Option<Owner> {
        let held_as = self.nodes.get(index)?.held_as?;
        let holder = self.nodes.get(index + 1)?;
        let name = held_as.name?;
        // The variable `path` names, in the scope at `at` on the path: a module's when the
        // scope is a module's top level, a closure's when it is a function's (a factory's
        // `let text` is not the module's, though the function is in it).
        let variable = |at: usize, path: String| {
            let scope = &self.nodes[at];
            match self.scope_file(scope) {
                Some(file) if !self.is_function_scope(scope.node) => Owner {
                    kind: OwnerKind::ModuleVariable,
                    module: Some(self.variable_module(&file, at, &path)),
                    path,
                },
                file => Owner {
                    kind: OwnerKind::ClosureVariable,
                    module: file.map(|f| self.locator.display_file(&f)),
                    path,
                },
            }
        };
        match held_as.kind {
            EdgeType::Context => Some(
                self.exporting_module(self.nodes[index].node)
                    .unwrap_or_else(|| variable(index + 1, name.to_string())),
            ),
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
                if let (Some(up), Some(_)) = (holder.held_as, self.nodes.get(index + 2)) {
                    if let (EdgeType::Context, Some(var)) = (up.kind, up.name) {
                        return Some(variable(index + 2, format!("{var}.{prop}")));
                    }
                }
                // A class's static field hangs off its constructor: `Connection.all`.
                let g = self.graph();
                let name = g.node_name(holder.node);
                let holder_name = if holder.kind == NodeKind::Closure && !name.is_empty() {
                    name
                } else {
                    holder.class
                };
                Some(Owner {
                    kind: OwnerKind::Property,
                    module: None,
                    path: format!("{holder_name}.{prop}"),
                })
            }
            _ => None,
        }
    }

    /// Where the program grows the node at `index`, held under a name: the `name.set(`/
    /// `push(`/… call (one of `methods`), `name[…] =` or `name +=` in the module that holds
    /// it, found by reading that script: in the function whose scope holds it (a variable)
    /// or the class or function that made the object holding it (a property).
    pub fn growth_site(&self, index: usize, methods: &[&str]) -> Option<SourceLocation> {
        let held_as = self.nodes.get(index)?.held_as?;
        let receiver = match held_as.kind {
            EdgeType::Context => source::Receiver::Variable(held_as.name?),
            EdgeType::Property => source::Receiver::Property(held_as.name?),
            _ => return None,
        };
        let holder = self.nodes.get(index + 1)?;
        let (file, near) = if holder.kind == NodeKind::Scope {
            match self.scope_user(index + 1) {
                Some(l) => (l.file.clone(), Some(l)),
                None => (self.scope_file(holder)?, None),
            }
        } else {
            let file = holder
                .location
                .as_ref()
                .map(|l| l.file.clone())
                .or_else(|| self.exports_of_module(index + 1))
                .or_else(|| self.closure_above().map(|l| l.file.clone()))?;
            let near = holder.location.clone().filter(|l| l.file == file);
            (file, near)
        };
        let text = source::read_script(&file)?;
        let query = source::GrowthQuery {
            receiver,
            methods,
            near: near.map(|l| source::LineColumn {
                line: l.line,
                column: l.column,
            }),
        };
        let site = source::find_growth_site(&text, &query)?;
        Some(SourceLocation {
            file,
            line: site.at.line,
            column: site.at.column,
            function: site.function,
        })
    }

    /// Where a function using the scope at `index` is, which is inside the block that
    /// declares the scope's variables: the closure above it on the path (past outer scopes),
    /// else any closure of the program whose scope it is (an ES module's scope is held by
    /// the module's own code, not a closure). Found once per scope.
    pub(super) fn scope_user(&self, index: usize) -> Option<SourceLocation> {
        let on_path = self.nodes[index..]
            .iter()
            .find(|p| p.kind != NodeKind::Scope)
            .filter(|p| p.kind == NodeKind::Closure)
            .and_then(|p| p.location.clone());
        if on_path.is_some() || self.nodes[index].kind != NodeKind::Scope {
            return on_path;
        }
        let context = self.nodes[index].node;
        if let Some(known) = self.scope_users.borrow().get(&context) {
            return known.clone();
        }
        let g = self.graph();
        let found = (0..g.node_count() as NodeIndex)
            .filter(|&v| g.node_type(v) == NodeType::Closure)
            .filter(|&v| {
                g.edges_of(v)
                    .any(|e| g.edge_target(e) == context && g.edge_name(e) == Some("context"))
            })
            .find_map(|v| user_location(self.locator, v));
        self.scope_users.borrow_mut().insert(context, found.clone());
        found
    }

    /// The module a variable (`path`'s first name) of the scope at `scope` belongs to, as
    /// people read it: where it is declared in `file`, through the script's source map. A
    /// bundle puts many modules in one script; the variable's own is the one to name.
    pub(super) fn variable_module(&self, file: &str, scope: usize, path: &str) -> String {
        let name = path.split('.').next().unwrap_or(path);
        let near = self
            .scope_user(scope)
            .filter(|l| l.file == file)
            .map(|l| source::LineColumn {
                line: l.line,
                column: l.column,
            });
        let declared =
            source::read_script(file).and_then(|text| source::find_declaration(&text, name, near));
        match declared {
            Some(at) => {
                self.locator
                    .display(SourceLocation {
                        file: file.to_string(),
                        line: at.line,
                        column: at.column,
                        function: None,
                    })
                    .file
            }
            None => self.locator.display_file(file),
        }
    }

    /// `location` with the function it is in, when it names none (an anonymous callback, a
    /// line found by reading the source) and the script can be read.
    pub fn with_function(&self, mut location: SourceLocation) -> SourceLocation {
        if location.function.is_none() && !location.is_runtime() {
            if let Some(text) = source::read_script(&location.file) {
                location.function =
                    self.function_at(&location.file, &text, location.line, location.column);
            }
        }
        location
    }

    /// The name of the program's innermost function in `file` (whose text is `text`) that
    /// holds the position: the functions are the script's closures in the snapshot.
    pub(super) fn function_at(
        &self,
        file: &str,
        text: &str,
        line: u32,
        column: u32,
    ) -> Option<String> {
        let g = self.graph();
        let functions: Vec<(String, u32, u32)> = (0..g.node_count() as NodeIndex)
            .filter(|&v| g.node_type(v) == NodeType::Closure && !g.node_name(v).is_empty())
            .filter_map(|v| self.locator.script_location(v))
            .filter(|l| l.file == file)
            .filter_map(|l| Some((l.function?, l.line, l.column)))
            .collect();
        enclosing::innermost(
            text,
            functions.iter().map(|(n, l, c)| (n.as_str(), *l, *c)),
            line,
            column,
        )
        .map(str::to_string)
    }

    /// Whether a scope is a function's, inside another scope, rather than a module's top
    /// level: V8 links each context to the one around it (`previous`); a module's top-level
    /// scope sits directly in the native context.
    pub(super) fn is_function_scope(&self, context: NodeIndex) -> bool {
        let g = self.graph();
        g.edges_of(context)
            .find(|&e| g.edge_type(e) == EdgeType::Internal && g.edge_name(e) == Some("previous"))
            .is_some_and(|e| g.node_name(g.edge_target(e)) == "system / Context")
    }

    /// The CommonJS module that exports `n` (`module.exports = n`, or a property of its
    /// `exports`): a variable another module imported it into is only a copy of the
    /// reference; the module that exports it is where it is made and named. Two scans of
    /// the edges, for the few suspects a report shows.
    pub(super) fn exporting_module(&self, n: NodeIndex) -> Option<Owner> {
        let g = self.graph();
        // Holders of `n` by a named property: (holder, property).
        let mut holders: Vec<(NodeIndex, &str)> = Vec::new();
        for v in 0..g.node_count() as NodeIndex {
            for e in g.edges_of(v) {
                if g.edge_target(e) == n && v != n && g.edge_type(e) == EdgeType::Property {
                    holders.push((v, g.edge_name(e).unwrap_or("")));
                }
            }
        }
        for m in 0..g.node_count() as NodeIndex {
            if g.node_type(m) != NodeType::Object || g.node_name(m) != "Module" {
                continue;
            }
            let filename = || {
                g.edges_of(m)
                    .find(|&e| g.edge_name(e) == Some("filename"))
                    .map(|e| g.edge_target(e))
                    .filter(|&f| g.node_type(f).is_string())
                    .map(|f| self.locator.display_file(g.node_name(f)))
            };
            for e in g.edges_of(m) {
                if g.edge_name(e) != Some("exports") {
                    continue;
                }
                let exports = g.edge_target(e);
                let path = if exports == n {
                    Some("module.exports".to_string())
                } else {
                    holders
                        .iter()
                        .find(|&&(h, _)| h == exports)
                        .map(|&(_, prop)| format!("exports.{prop}"))
                };
                if let Some(path) = path {
                    return Some(Owner {
                        kind: OwnerKind::ModuleExport,
                        module: filename(),
                        path,
                    });
                }
            }
        }
        None
    }

    /// When the node at `index` is a CommonJS module's `exports`, that module's file (Node's
    /// `Module` objects keep their `filename`).
    pub(super) fn exports_of_module(&self, index: usize) -> Option<String> {
        let g = self.graph();
        let exports = self.nodes.get(index)?;
        let module = self.nodes.get(index + 1)?;
        if exports.held_as?.name != Some("exports") || module.class != "Module" {
            return None;
        }
        g.edges_of(module.node)
            .find(|&e| g.edge_name(e) == Some("filename"))
            .map(|e| g.edge_target(e))
            .filter(|&f| g.node_type(f).is_string())
            .map(|f| g.node_name(f).to_string())
    }

    /// The file of a function using this scope: the module it is in. Finding it takes a
    /// scan of every closure, so answers are kept (in the locator, which lives for the whole
    /// diagnosis) for the next suspect held in the same scope.
    pub(super) fn scope_file(&self, scope: &PathNode) -> Option<String> {
        self.scope_file_of(scope.node)
    }

    /// [`SuspectFacts::scope_file`] for any scope, on the path or not.
    pub(super) fn scope_file_of(&self, context: NodeIndex) -> Option<String> {
        self.locator.scope_file(context, || {
            let g = self.graph();
            (0..g.node_count() as NodeIndex)
                .filter(|&v| g.node_type(v) == NodeType::Closure)
                .filter(|&v| {
                    g.edges_of(v)
                        .any(|e| g.edge_target(e) == context && g.edge_name(e) == Some("context"))
                })
                .find_map(|v| user_location(self.locator, v).map(|l| l.file))
        })
    }
}
