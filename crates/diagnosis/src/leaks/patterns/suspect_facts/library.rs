//! Facts about code the program does not own: whether a collection on the path belongs to a
//! library (a file under `node_modules`) or to Node itself, the handler a library's list
//! entry holds, the program's variable a library object is shared through, and the methods
//! that would take an entry back out. The handler-list rule reads them.

use leakhunt_engine::graph::{EdgeType, NodeType};
use leakhunt_engine::NodeIndex;
use leakhunt_findings::SourceLocation;

use super::{user_location, NodeKind, SuspectFacts};
use crate::leaks::patterns::unbounded_collection::GROW_METHODS;

/// Who keeps a collection that the program's own code does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keeper {
    /// A variable of Node's own code (`storageList` in `node:async_hooks`).
    Runtime,
    /// An object (or a module) of a library: its class or function name.
    Library(String),
}

/// Verbs that name a call taking an entry back out: `remove`, `removeQueries`, `eject`,
/// `leave`, `disable` … (English words for undoing, not any one library's names).
/// Nearest first when several match. (`off` is left out: removing a listener is the
/// event-listener rule's fix, and an emitter's `offAny` is not what takes a list entry out.)
const REMOVAL_VERBS: [&str; 16] = [
    "remove",
    "delete",
    "del",
    "leave",
    "eject",
    "unregister",
    "unsubscribe",
    "unuse",
    "dispose",
    "disable",
    "clear",
    "destroy",
    "detach",
    "unbind",
    "unwatch",
    "drop",
];

/// A function literal behind more than this many method names of one prototype is a
/// generated family (a router's `get`, `post`, `delete` … for every HTTP method), not a
/// removal the library offers.
const GENERATED_NAMES: usize = 2;

/// Prototype levels searched for removal methods: a class, its parent, its grandparent.
const PROTOTYPE_LEVELS: usize = 3;

/// At most this many removal methods are named.
const MAX_REMOVAL: usize = 4;

/// A file of a library rather than of the program.
pub fn is_library_file(file: &str) -> bool {
    file.contains("/node_modules/") || file.contains("\\node_modules\\")
}

/// The verb's rank in [`REMOVAL_VERBS`] when `name` is a removal method's name.
fn removal_rank(name: &str) -> Option<usize> {
    REMOVAL_VERBS.iter().position(|v| {
        name == *v
            || name
                .strip_prefix(v)
                .and_then(|rest| rest.chars().next())
                .is_some_and(|c| c.is_ascii_uppercase())
    })
}

/// The package a library file belongs to: `axios`, `@tanstack/query-core`.
fn package_of(file: &str) -> Option<String> {
    let file = file.replace('\\', "/");
    let (_, rest) = file.rsplit_once("/node_modules/")?;
    let mut parts = rest.split('/');
    let first = parts.next()?;
    Some(if first.starts_with('@') {
        format!("{first}/{}", parts.next()?)
    } else {
        first.to_string()
    })
}

impl SuspectFacts<'_> {
    /// Who keeps the collection at `index`, when it is not the program: a variable of Node's
    /// own code, or a library whose code grows it (its `.push(`/`.set(`/… is in a file under
    /// `node_modules`). A collection the program grows, even when it hangs off a library
    /// object, is the program's.
    pub fn keeper(&self, index: usize) -> Option<Keeper> {
        let holder = self.nodes.get(index + 1)?;
        self.nodes[index].held_as?;
        if holder.kind == NodeKind::Scope {
            return match self.scope_file(holder) {
                // No closure of the program uses the scope, and one of Node's does.
                None => self
                    .scope_is_runtime(holder.node)
                    .then_some(Keeper::Runtime),
                Some(file) if is_library_file(&file) => {
                    let base = file.rsplit(['/', '\\']).next().unwrap_or(&file);
                    Some(Keeper::Library(base.to_string()))
                }
                Some(_) => None,
            };
        }
        let site = self.growth_site(index, &GROW_METHODS)?;
        if !is_library_file(&site.file) {
            return None;
        }
        let g = self.graph();
        let name = g.node_name(holder.node);
        Some(Keeper::Library(
            if holder.kind == NodeKind::Closure && !name.is_empty() {
                name.to_string()
            } else {
                holder.class.to_string()
            },
        ))
    }

    /// Whether a function of Node's own code (`node:…`) uses the scope `context`. Asked
    /// only for a scope no function of the program uses: one scan of the closures.
    fn scope_is_runtime(&self, context: NodeIndex) -> bool {
        let g = self.graph();
        (0..g.node_count() as NodeIndex)
            .filter(|&v| g.node_type(v) == NodeType::Closure)
            .filter(|&v| {
                g.edges_of(v)
                    .any(|e| g.edge_target(e) == context && g.edge_name(e) == Some("context"))
            })
            .any(|v| {
                self.locator
                    .script_location(v)
                    .is_some_and(|l| l.is_runtime() && !l.file.is_empty())
            })
    }

    /// The handler the suspect's object is or holds: the object itself when it is a
    /// function, else a function in one of its own properties (a `{ fulfilled, rejected }`
    /// record, a router's layer with its `handle`). Where that function is, and whether it
    /// sits in a record.
    /// A handler comes from outside the library that keeps it: the program's code, or
    /// another package's (`app.use(bodyParser())`); functions of the keeper's own package on
    /// its entries (bound methods) are not handlers. `keeper_file` is where the keeper grows
    /// the list, when known.
    pub fn handler(&self, keeper_file: Option<&str>) -> Option<(SourceLocation, bool)> {
        let keeper_package = keeper_file.and_then(package_of);
        let outside = |n: NodeIndex| {
            let at = user_location(self.locator, n)?;
            let package = package_of(&at.file);
            (package.is_none() || package != keeper_package).then_some(at)
        };
        let object = self.object();
        if object.kind == NodeKind::Closure {
            return outside(object.node).map(|at| (at, false));
        }
        if object.kind != NodeKind::Other {
            return None;
        }
        let g = self.graph();
        g.edges_of(object.node)
            .filter(|&e| g.edge_type(e) == EdgeType::Property)
            .filter(|&e| !matches!(g.edge_name(e), Some("__proto__" | "constructor")))
            .map(|e| g.edge_target(e))
            .filter(|&t| g.node_type(t) == NodeType::Closure)
            .find_map(outside)
            .map(|at| (at, true))
    }

    /// The program's variable above `from` on the path through which it reaches a library
    /// object: a variable of one of the program's modules (not a library's, not Node's).
    /// Its position on the path and its name.
    pub fn program_variable_above(&self, from: usize) -> Option<(usize, String)> {
        (from..self.nodes.len().saturating_sub(1)).find_map(|j| {
            let held = self.nodes[j].held_as?;
            let scope = &self.nodes[j + 1];
            if held.kind != EdgeType::Context || scope.kind != NodeKind::Scope {
                return None;
            }
            let file = self.scope_file(scope)?;
            let name = held.name?;
            (!is_library_file(&file)).then(|| (j, name.to_string()))
        })
    }

    /// The methods on the prototype chain of the node at `index` that take an entry back
    /// out, named `name.method`: the nearest class level that has any (a class's own
    /// `leave` before the `off` it inherits from EventEmitter).
    pub fn removal_methods(&self, index: usize, name: &str) -> Vec<String> {
        let g = self.graph();
        let mut object = self.nodes[index].node;
        // An object of Node's own (an AsyncLocalStorage) takes Node's methods.
        let own_is_runtime = self
            .locator
            .script_location(object)
            .is_some_and(|l| l.is_runtime() && !l.file.is_empty());
        for _ in 0..PROTOTYPE_LEVELS {
            let Some(proto) = prototype(g, object) else {
                break;
            };
            let methods: Vec<(&str, NodeIndex)> = g
                .edges_of(proto)
                .filter(|&e| g.edge_type(e) == EdgeType::Property)
                .filter(|&e| g.node_type(g.edge_target(e)) == NodeType::Closure)
                .filter_map(|e| Some((g.edge_name(e)?, g.edge_target(e))))
                .collect();
            let mut found: Vec<(usize, &str)> = methods
                .iter()
                .filter_map(|&(m, _)| Some((removal_rank(m)?, m)))
                .collect();
            if found.is_empty() {
                object = proto;
                continue;
            }
            // Leave out generated families (one function literal behind many names), and
            // what a library class inherits from Node's own classes (EventEmitter's
            // `removeListener` takes out listeners, not the library's entries).
            let at = |n: NodeIndex| self.locator.script_location(n);
            found.retain(|&(_, m)| {
                let Some((_, n)) = methods.iter().find(|(name, _)| *name == m) else {
                    return false;
                };
                let here = at(*n);
                let inherited_from_node = !own_is_runtime
                    && here
                        .as_ref()
                        .is_some_and(|l| l.is_runtime() && !l.file.is_empty());
                !inherited_from_node
                    && (here.is_none()
                        || methods.iter().filter(|(_, o)| at(*o) == here).count()
                            <= GENERATED_NAMES)
            });
            if found.is_empty() {
                object = proto;
                continue;
            }
            found.sort();
            found.dedup();
            return found
                .into_iter()
                .take(MAX_REMOVAL)
                .map(|(_, m)| format!("{name}.{m}"))
                .collect();
        }
        Vec::new()
    }

    /// The name a path node reads by in code: a function's own name, else its class.
    pub fn code_name(&self, index: usize) -> String {
        let p = &self.nodes[index];
        let name = self.graph().node_name(p.node);
        if p.kind == NodeKind::Closure && !name.is_empty() {
            name.to_string()
        } else {
            p.class.to_string()
        }
    }

    /// Whether the node at `index` is an instance of a class defined in code (the program's,
    /// a library's or Node's JavaScript), not a built-in such as Set or Array.
    pub fn has_class_code(&self, index: usize) -> bool {
        self.locator
            .script_location(self.nodes[index].node)
            .is_some()
    }
}

fn prototype(g: &leakhunt_engine::graph::HeapGraph, n: NodeIndex) -> Option<NodeIndex> {
    g.edges_of(n)
        .find(|&e| g.edge_name(e) == Some("__proto__"))
        .map(|e| g.edge_target(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_verbs_match_whole_words_in_camel_case() {
        for m in [
            "remove",
            "removeQueries",
            "eject",
            "leaveAll",
            "disable",
            "clear",
        ] {
            assert!(removal_rank(m).is_some(), "{m}");
        }
        for m in [
            "removed", "delay", "clearly", "use", "join", "deleter", "offAny",
        ] {
            assert!(removal_rank(m).is_none(), "{m}");
        }
    }

    #[test]
    fn a_package_is_named_by_its_folder_under_node_modules() {
        assert_eq!(
            package_of("/a/node_modules/@tanstack/query-core/build/q.cjs").as_deref(),
            Some("@tanstack/query-core")
        );
        assert_eq!(
            package_of("/a/node_modules/express/node_modules/body-parser/index.js").as_deref(),
            Some("body-parser")
        );
        assert_eq!(package_of("/srv/app/server.js"), None);
    }

    #[test]
    fn library_files_are_under_node_modules() {
        assert!(is_library_file(
            "/srv/app/node_modules/axios/lib/core/InterceptorManager.js"
        ));
        assert!(!is_library_file("/srv/app/src/server.js"));
    }
}
