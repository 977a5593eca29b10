//! Facts about code the program does not own: whether a collection on the path belongs to a
//! library (a file under `node_modules`) or to Node itself, the handler a library's list
//! entry holds, the program's variable a library object is shared through, and the methods
//! that would take an entry back out. The handler-list rule reads them.

use leakhunt_engine::graph::{EdgeType, NodeType};
use leakhunt_engine::NodeIndex;
use leakhunt_findings::SourceLocation;

use super::{node_kind, user_location, NodeKind, SuspectFacts};
use crate::leaks::patterns::unbounded_collection::GROW_METHODS;
use crate::leaks::source;

/// The program's variable holding a library object it shares across requests.
#[derive(Debug, Clone)]
pub struct SharedVariable {
    /// The object's position on the path.
    pub at: usize,
    pub name: String,
    /// The scope that declares it.
    scope: NodeIndex,
}

/// Who keeps a collection that the program's own code does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keeper {
    /// A variable of Node's own code (`storageList` in `node:async_hooks`).
    Runtime,
    /// An object (or a module) of a library: its class or function name.
    Library(String),
}

/// One value a library's collection keeps: the suspect's object, or, when the suspect is
/// the collection growing by itself, its newest entry of the most common class. Both
/// shapes of one leak (new objects gathering under the list, the list's entries counted)
/// then read the same.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    node: NodeIndex,
    pub class: &'a str,
    kind: NodeKind,
}

impl Entry<'_> {
    /// A record or a string: not a function, and not a collection of its own (a room's
    /// Set of members is a group the program joins, not a value it passes).
    pub fn is_data(&self) -> bool {
        matches!(self.kind, NodeKind::Other | NodeKind::String)
            && !["Map", "Set", "Array", "WeakMap", "WeakSet"].contains(&self.class)
    }
}

/// Entries sampled from a collection: enough to tell its usual class, bounded so a list
/// of millions costs no more than a few thousand edges.
const ENTRY_SAMPLE: usize = 4096;

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

impl<'a> SuspectFacts<'a> {
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
    pub fn handler(
        &self,
        entry: &Entry,
        keeper_file: Option<&str>,
    ) -> Option<(SourceLocation, bool)> {
        let keeper_package = keeper_file.and_then(package_of);
        let outside = |n: NodeIndex| {
            let at = user_location(self.locator, n)?;
            let package = package_of(&at.file);
            (package.is_none() || package != keeper_package).then_some(at)
        };
        if entry.kind == NodeKind::Closure {
            return outside(entry.node).map(|at| (at, false));
        }
        if entry.kind != NodeKind::Other {
            return None;
        }
        let g = self.graph();
        g.edges_of(entry.node)
            .filter(|&e| g.edge_type(e) == EdgeType::Property)
            .filter(|&e| !matches!(g.edge_name(e), Some("__proto__" | "constructor")))
            .map(|e| g.edge_target(e))
            .filter(|&t| g.node_type(t) == NodeType::Closure)
            .find_map(outside)
            .map(|at| (at, true))
    }

    /// The program's variable through which it shares the library object above `from` on
    /// the path: the object's position on the path and the variable's name.
    ///
    /// The object nearest the collection that a variable of one of the program's modules
    /// (not a library's, not Node's) holds, whichever way the snapshot's search reached it:
    /// the shortest path may run through what a render or a timer left behind, while the
    /// program keeps the object in its own variable. Objects only (a variable holding a
    /// library's function, `const h = createElement`, holds the library's code, whose scope
    /// reaches anything the library kept from its last call, not an instance the program
    /// made), and not a module's exports. Two scans: the modules, the scopes' variables.
    pub fn program_variable_above(&self, from: usize) -> Option<SharedVariable> {
        let g = self.graph();
        let mut objects: Vec<(usize, NodeIndex)> = (from..self.nodes.len())
            .filter(|&k| self.nodes[k].kind == NodeKind::Other)
            .map(|k| (k, self.nodes[k].node))
            .collect();
        // A module's exports (`const client = require('prom-client')`) is the library
        // itself, which every program shares, not an instance the program made.
        for v in 0..g.node_count() as NodeIndex {
            if g.node_type(v) == NodeType::Object && g.node_name(v) == "Module" {
                for e in g.edges_of(v) {
                    if g.edge_name(e) == Some("exports") {
                        objects.retain(|&(_, n)| n != g.edge_target(e));
                    }
                }
            }
        }
        if objects.is_empty() {
            return None;
        }
        let mut best: Option<SharedVariable> = None;
        for v in 0..g.node_count() as NodeIndex {
            if node_kind(g, v) != NodeKind::Scope {
                continue;
            }
            for e in g
                .edges_of(v)
                .filter(|&e| g.edge_type(e) == EdgeType::Context)
            {
                let target = g.edge_target(e);
                let Some(&(at, _)) = objects.iter().find(|&&(_, n)| n == target) else {
                    continue;
                };
                if best.as_ref().is_some_and(|b| b.at <= at) {
                    continue;
                }
                let (Some(name), Some(file)) = (g.edge_name(e), self.scope_file_of(v)) else {
                    continue;
                };
                if !is_library_file(&file) {
                    best = Some(SharedVariable {
                        at,
                        name: name.to_string(),
                        scope: v,
                    });
                }
            }
        }
        best
    }

    /// Where the program declares the shared variable (`const queryClient = new
    /// QueryClient()`), read from its module's text: the line that makes the one object
    /// every request shares.
    pub fn declaration(&self, shared: &SharedVariable) -> Option<SourceLocation> {
        let file = self.scope_file_of(shared.scope)?;
        let text = source::read_script(&file)?;
        let at = source::find_declaration(&text, &shared.name, None)?;
        Some(SourceLocation {
            file,
            line: at.line,
            column: at.column,
            function: None,
        })
    }

    /// The methods on the prototype chain of the node at `index` that take an entry back
    /// out, named `name.method`: the nearest class level that has any (a class's own
    /// `leave` before the `off` it inherits from EventEmitter).
    pub fn removal_methods(&self, index: usize, name: &str) -> Vec<String> {
        self.removal_methods_of(self.nodes[index].node, name)
    }

    /// [`SuspectFacts::removal_methods`] for an entry's own class.
    pub fn entry_removal_methods(&self, entry: &Entry) -> Vec<String> {
        self.removal_methods_of(entry.node, entry.class)
    }

    fn removal_methods_of(&self, object: NodeIndex, name: &str) -> Vec<String> {
        let g = self.graph();
        let mut object = object;
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

    /// The call that adds to the collection at `index`, as the program makes it
    /// (`flags.subscribe` through the program's variable `shared`, else the bare function
    /// name), when the library function that grows it at `site` returns a function that
    /// takes the entry back out ([`source::returns_undo`]): the program can keep that and
    /// call it, and does not.
    pub fn returned_removal(
        &self,
        index: usize,
        site: &SourceLocation,
        shared: Option<&str>,
    ) -> Option<String> {
        let function = site.function.as_deref()?;
        let held_as = self.nodes[index].held_as?;
        let receiver = match held_as.kind {
            EdgeType::Context => source::Receiver::Variable(held_as.name?),
            EdgeType::Property => source::Receiver::Property(held_as.name?),
            _ => return None,
        };
        let text = source::read_script(&site.file)?;
        let at = source::LineColumn {
            line: site.line,
            column: site.column,
        };
        // Taking out: a removal verb, or an array's own ways (`splice`, `x = x.filter(…)`).
        let is_undo = |m: &str| removal_rank(m).is_some() || m == "splice" || m == "filter";
        source::returns_undo(&text, at, receiver, is_undo).then(|| match shared {
            Some(variable) => format!("{variable}.{function}"),
            None => function.to_string(),
        })
    }

    /// Whether the collection at `index` is keyed by strings: a dictionary object (its
    /// property names), or a Map whose hash table holds string keys (sampled from its first
    /// slots).
    pub fn keyed_by_strings(&self, index: usize) -> bool {
        const SAMPLE: usize = 64;
        let p = &self.nodes[index];
        if p.class == "Object" {
            return self.is_dictionary(index);
        }
        if p.class != "Map" {
            return false;
        }
        let g = self.graph();
        g.edges_of(p.node)
            .filter(|&e| g.edge_type(e) == EdgeType::Internal && g.edge_name(e) == Some("table"))
            .map(|e| g.edge_target(e))
            .flat_map(|table| g.edges_of(table).take(SAMPLE))
            .any(|e| g.node_type(g.edge_target(e)).is_string())
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

    /// Whether the entry is an instance of a class defined in code (the program's, a
    /// library's or Node's JavaScript), not a built-in such as Set or Array.
    pub fn has_class_code(&self, entry: &Entry) -> bool {
        self.locator.script_location(entry.node).is_some()
    }

    /// The value the collection keeps (see [`Entry`]): the suspect's object, or for a
    /// collection growing by itself, one of its own entries.
    pub fn entry(&self) -> Option<Entry<'a>> {
        let object = self.object();
        if !self.is_collection {
            return Some(Entry {
                node: object.node,
                class: object.class,
                kind: object.kind,
            });
        }
        self.newest_entry(object.node)
    }

    /// The collection's newest entry of its most common class: its values are reached
    /// through its own elements or through the storage V8 keeps them in (an array's
    /// backing store, a Map's hash table), where later slots are newer. Strings and numbers
    /// (a Map's keys) are not values of a class.
    fn newest_entry(&self, collection: NodeIndex) -> Option<Entry<'a>> {
        let g = self.graph();
        let values = |n: NodeIndex| {
            g.edges_of(n)
                .filter(|&e| {
                    matches!(
                        g.edge_type(e),
                        EdgeType::Element | EdgeType::Internal | EdgeType::Hidden
                    ) && !matches!(g.edge_name(e), Some("map" | "__proto__"))
                })
                .map(move |e| g.edge_target(e))
        };
        let mut entries: Vec<NodeIndex> = Vec::new();
        for v in values(collection) {
            if entries.len() >= ENTRY_SAMPLE {
                break;
            }
            match node_kind(g, v) {
                NodeKind::Storage => {
                    entries.extend(values(v).take(ENTRY_SAMPLE.saturating_sub(entries.len())))
                }
                _ => entries.push(v),
            }
        }
        entries.retain(|&v| {
            matches!(g.node_type(v), NodeType::Object | NodeType::Closure)
                && matches!(node_kind(g, v), NodeKind::Other | NodeKind::Closure)
        });
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for &v in &entries {
            let class = self.locator.class_of(v);
            match counts.iter_mut().find(|(c, _)| *c == class) {
                Some((_, k)) => *k += 1,
                None => counts.push((class, 1)),
            }
        }
        let (class, _) = counts.iter().max_by_key(|&&(_, k)| k).copied()?;
        let node = *entries
            .iter()
            .rfind(|&&v| self.locator.class_of(v) == class)?;
        Some(Entry {
            node,
            class,
            kind: node_kind(g, node),
        })
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
