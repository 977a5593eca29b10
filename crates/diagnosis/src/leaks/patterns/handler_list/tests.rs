//! The handler-list rule on small heaps: library files written to a temporary folder
//! under `node_modules`, the program's beside it.

use std::path::Path;

use leakhunt_engine::{EdgeType, NodeIndex, NodeType};
use leakhunt_findings::SourceLocation;

use super::*;
use crate::leaks::patterns::testing::{Builder, Heap};

/// A library's file under `dir/node_modules/<package>/`, with `text`.
fn library_file(dir: &Path, package: &str, text: &str) -> std::path::PathBuf {
    let file = dir.join("node_modules").join(package).join("lib.js");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, text).unwrap();
    file
}

const MANAGER: &str = "function Manager() { this.handlers = []; }\n\
                       Manager.prototype.use = function (f) {\n  this.handlers.push({ fulfilled: f });\n};\n\
                       Manager.prototype.eject = function (id) { this.handlers[id] = null; };\n";

/// `client.interceptors` (a `Manager` of the library in `manager_file`) keeps `{
/// fulfilled }` records in `handlers`; the record's function is in `handler_file` at line
/// 10. Returns the builder, the record and the list.
fn interceptors(manager_file: &Path, handler_file: &Path) -> (Builder, NodeIndex, NodeIndex) {
    interceptors_with(manager_file, handler_file, true)
}

/// As [`interceptors`], the Manager's prototype with or without its own `eject`.
fn interceptors_with(
    manager_file: &Path,
    handler_file: &Path,
    with_eject: bool,
) -> (Builder, NodeIndex, NodeIndex) {
    let mut h = Builder::new();
    h.script(1, manager_file);
    h.script(2, handler_file);
    let client = h.var("client", NodeType::Object, "Client", 40);
    let manager = h.node(NodeType::Object, "Manager", 40);
    h.b.location(manager, 1, 0, 9);
    let proto = h.node(NodeType::Object, "Object", 40);
    let eject = h.node(NodeType::Closure, "", 32);
    h.b.location(eject, 1, 4, 26);
    let use_ = h.node(NodeType::Closure, "", 32);
    h.b.location(use_, 1, 1, 24);
    let list = h.node(NodeType::Object, "Array", 32);
    let record = h.node(NodeType::Object, "Object", 32);
    let handler = h.node(NodeType::Closure, "", 32);
    h.b.location(handler, 2, 9, 4);
    h.edge(client, EdgeType::Property, "interceptors", manager);
    h.edge(manager, EdgeType::Property, "__proto__", proto);
    if with_eject {
        h.edge(proto, EdgeType::Property, "eject", eject);
    }
    h.edge(proto, EdgeType::Property, "use", use_);
    // A parent class of Node's (EventEmitter) with its own removal methods: they take
    // out listeners, not handlers.
    h.script(4, Path::new("node:events"));
    let emitter = h.node(NodeType::Object, "EventEmitter", 40);
    let remove_listener = h.node(NodeType::Closure, "removeListener", 32);
    h.b.location(remove_listener, 4, 500, 2);
    h.edge(proto, EdgeType::Property, "__proto__", emitter);
    h.edge(
        emitter,
        EdgeType::Property,
        "removeListener",
        remove_listener,
    );
    // Methods generated from one function literal, one per HTTP method (`delete`
    // routes DELETE requests): not a removal.
    for verb in ["get", "post", "delete"] {
        let route = h.node(NodeType::Closure, "", 32);
        h.b.location(route, 1, 6, 2);
        h.edge(proto, EdgeType::Property, verb, route);
    }
    h.edge(manager, EdgeType::Property, "handlers", list);
    h.edge(list, EdgeType::Element, "0", record);
    h.edge(record, EdgeType::Property, "fulfilled", handler);
    (h, record, list)
}

#[test]
fn fires_for_records_of_the_programs_functions_in_a_list_a_library_grows() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library_file(dir.path(), "client", MANAGER);
    let app = dir.path().join("server.js");
    let (h, record, list) = interceptors(&lib, &app);
    let heap = h.build();
    let locator = heap.locator();
    let f = check(&heap.facts(&locator, record, list)).expect("a handler list");
    assert_eq!(f.pattern, Pattern::EventListener);
    assert_eq!(
        f.location,
        Some(SourceLocation {
            file: app.to_str().unwrap().into(),
            line: 10,
            column: 5,
            function: None
        }),
        "the program's line, not the library's"
    );
    assert_eq!(f.owner.unwrap().path, "Manager.handlers");
    assert_eq!(
        f.explanation,
        Explanation::HandlerList {
            holder_class: "Manager".into(),
            record_class: Some("Object".into()),
            removal: vec!["Manager.eject".into()],
            returned_removal: None,
        },
        "`eject`, not the generated `delete`"
    );
}

const STORE: &str = "const create = () => {\n  const listeners = new Set();\n  \
                     const subscribe = (listener) => {\n    listeners.add(listener);\n    \
                     return () => listeners.delete(listener);\n  };\n  return { subscribe };\n};\n";

/// The program's `flags` (a store the library in `store_file` made) whose `subscribe`
/// keeps each listener in the set `listeners` of the library's factory scope; the
/// listener is the program's, at line 10 of `app`. Returns the builder, the listener
/// and the set.
fn store(store_file: &Path, app: &Path) -> (Builder, NodeIndex, NodeIndex) {
    let mut h = Builder::new();
    h.script(1, store_file);
    h.script(2, app);
    // A function of the program's module uses its scope.
    let handler = h.node(NodeType::Closure, "handle", 32);
    h.b.location(handler, 2, 3, 0);
    let module = h.scope;
    h.edge(handler, EdgeType::Internal, "context", module);
    let flags = h.var("flags", NodeType::Object, "Object", 40);
    let subscribe = h.node(NodeType::Closure, "subscribe", 32);
    h.b.location(subscribe, 1, 2, 20);
    let factory = h.node(NodeType::Object, "system / Context", 40);
    let listeners = h.node(NodeType::Object, "Set", 40);
    let table = h.node(NodeType::Array, "system / OrderedHashSet", 64);
    let listener = h.node(NodeType::Closure, "", 32);
    h.b.location(listener, 2, 9, 4);
    h.edge(flags, EdgeType::Property, "subscribe", subscribe);
    h.edge(subscribe, EdgeType::Internal, "context", factory);
    h.edge(factory, EdgeType::Context, "listeners", listeners);
    h.edge(listeners, EdgeType::Internal, "table", table);
    h.edge(table, EdgeType::Internal, "3", listener);
    (h, listener, listeners)
}

#[test]
fn the_undo_the_adding_call_returns_is_named_as_the_program_calls_it() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library_file(dir.path(), "store", STORE);
    let (h, listener, listeners) = store(&lib, &dir.path().join("server.js"));
    let heap = h.build();
    let locator = heap.locator();
    let f = check(&heap.facts(&locator, listener, listeners)).expect("a handler list");
    assert_eq!(f.pattern, Pattern::EventListener);
    let Explanation::HandlerList {
        returned_removal, ..
    } = f.explanation
    else {
        panic!("{:?}", f.explanation)
    };
    assert_eq!(returned_removal.as_deref(), Some("flags.subscribe"));
}

#[test]
fn no_undo_when_the_adding_call_returns_none() {
    let dir = tempfile::tempdir().unwrap();
    let keeps = STORE.replace("return () => listeners.delete(listener);", "return 1;");
    let lib = library_file(dir.path(), "store", &keeps);
    let (h, listener, listeners) = store(&lib, &dir.path().join("server.js"));
    let heap = h.build();
    let locator = heap.locator();
    let f = check(&heap.facts(&locator, listener, listeners)).expect("a handler list");
    let Explanation::HandlerList {
        returned_removal, ..
    } = f.explanation
    else {
        panic!("{:?}", f.explanation)
    };
    assert_eq!(returned_removal, None);
}

/// The program's `queryClient` (a `QueryClient` of the library in `lib`) keeps a
/// `queries` Map of `Query` objects in the library's own scope (`add`'s); a library
/// function the program holds as `h` (in `react`) still reaches the client from its
/// scope, and a root holds that function, so the shortest path runs through it rather
/// than through `queryClient`. Returns the builder, a query and the Map.
fn client_reached_through_a_render(
    lib: &Path,
    react: &Path,
    app: &Path,
) -> (Builder, NodeIndex, NodeIndex) {
    let mut h = Builder::new();
    h.script(1, lib);
    h.script(2, react);
    h.script(3, app);
    let handler = h.node(NodeType::Closure, "handle", 32);
    h.b.location(handler, 3, 4, 0);
    let module = h.scope;
    h.edge(handler, EdgeType::Internal, "context", module);
    let client = h.var("queryClient", NodeType::Object, "QueryClient", 40);
    h.b.location(client, 1, 0, 0);
    let create_element = h.var("h", NodeType::Closure, "createElement", 32);
    h.b.location(create_element, 2, 0, 0);
    let react_scope = h.node(NodeType::Object, "system / Context", 40);
    h.edge(create_element, EdgeType::Internal, "context", react_scope);
    h.edge(react_scope, EdgeType::Context, "lastClient", client);
    let root = h.b.root();
    h.edge(root, EdgeType::Element, "1", create_element);
    let add = h.node(NodeType::Closure, "add", 32);
    h.b.location(add, 1, 2, 13);
    let factory = h.node(NodeType::Object, "system / Context", 40);
    let queries = h.node(NodeType::Object, "Map", 40);
    let table = h.node(NodeType::Array, "system / OrderedHashMap", 64);
    let query = h.node(NodeType::Object, "Query", 64);
    h.edge(client, EdgeType::Property, "add", add);
    h.edge(add, EdgeType::Internal, "context", factory);
    h.edge(factory, EdgeType::Context, "queries", queries);
    h.edge(queries, EdgeType::Internal, "table", table);
    h.edge(table, EdgeType::Internal, "3", query);
    (h, query, queries)
}

#[test]
fn the_shared_object_is_named_by_the_programs_variable_off_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library_file(
        dir.path(),
        "query",
        "function QueryClient() {\n  const queries = new Map();\n  this.add = (q) => { queries.set(q.hash, q); };\n}\n",
    );
    let react = library_file(dir.path(), "react", "function createElement() {}\n");
    let app = dir.path().join("server.js");
    std::fs::write(
        &app,
        "const h = createElement;\nconst queryClient = new QueryClient();\n",
    )
    .unwrap();
    let (h, query, queries) = client_reached_through_a_render(&lib, &react, &app);
    let heap = h.build();
    let locator = heap.locator();
    let facts = heap.facts(&locator, query, queries);
    assert!(
        facts
            .holders()
            .any(|(_, p)| p.held_as.and_then(|e| e.name) == Some("lastClient")),
        "the path runs through the render's leftovers"
    );
    let f = check(&facts).expect("a library collection");
    let Explanation::LibraryCollection { shared_by, .. } = f.explanation else {
        panic!("{:?}", f.explanation)
    };
    assert_eq!(shared_by.as_deref(), Some("queryClient"), "not `h`");
    assert_eq!(
        f.location.unwrap().line,
        3,
        "the library's line that grows it"
    );
}

#[test]
fn without_the_librarys_line_the_place_is_where_the_program_makes_the_shared_object() {
    // Minified: no line of the library reads as growing `queries`. The closures above
    // on the path are the library's (`add`, `createElement`): not the program's place.
    let dir = tempfile::tempdir().unwrap();
    let lib = library_file(dir.path(), "query", "function QueryClient(){}\n");
    let react = library_file(dir.path(), "react", "function createElement() {}\n");
    let app = dir.path().join("server.js");
    std::fs::write(
        &app,
        "const h = createElement;\nconst queryClient = new QueryClient();\n",
    )
    .unwrap();
    let (h, query, queries) = client_reached_through_a_render(&lib, &react, &app);
    let heap = h.build();
    let locator = heap.locator();
    let f = check(&heap.facts(&locator, query, queries)).expect("a library collection");
    let at = f.location.expect("a place");
    assert_eq!((at.file.as_str(), at.line), (app.to_str().unwrap(), 2));
}

#[test]
fn a_librarys_exports_in_a_variable_is_not_a_shared_instance() {
    // `const client = require('metrics')`: the program's variable holds the module's
    // exports, whose default registry keeps the metrics. Creating `client` per request
    // is no fix.
    let dir = tempfile::tempdir().unwrap();
    let lib = library_file(
        dir.path(),
        "metrics",
        "function Registry() { this._metrics = new Map(); }\n\
         Registry.prototype.register = function (m) { this._metrics.set(m.name, m); };\n",
    );
    let app = dir.path().join("server.js");
    let mut h = Builder::new();
    h.script(1, &lib);
    h.script(2, &app);
    let handler = h.node(NodeType::Closure, "handle", 32);
    h.b.location(handler, 2, 3, 0);
    let module_scope = h.scope;
    h.edge(handler, EdgeType::Internal, "context", module_scope);
    let exports = h.var("client", NodeType::Object, "Object", 40);
    let module = h.node(NodeType::Object, "Module", 40);
    h.edge(module, EdgeType::Property, "exports", exports);
    let registry = h.node(NodeType::Object, "Registry", 40);
    h.b.location(registry, 1, 0, 17);
    let metrics = h.node(NodeType::Object, "Map", 40);
    let table = h.node(NodeType::Array, "system / OrderedHashMap", 64);
    let metric = h.node(NodeType::Object, "Histogram", 64);
    h.edge(exports, EdgeType::Property, "register", registry);
    h.edge(registry, EdgeType::Property, "_metrics", metrics);
    h.edge(metrics, EdgeType::Internal, "table", table);
    h.edge(table, EdgeType::Internal, "3", metric);
    let heap = h.build();
    let locator = heap.locator();
    let f = check(&heap.facts(&locator, metric, metrics)).expect("a library collection");
    let Explanation::LibraryCollection { shared_by, .. } = f.explanation else {
        panic!("{:?}", f.explanation)
    };
    assert_eq!(shared_by, None);
}

/// The program's `latency` (a `Histogram` of a library) keeps a Map from string keys
/// to values of class `value_class`. Returns the heap, a value and the Map.
fn keyed_map(dir: &Path, value_class: &str) -> (Heap, NodeIndex, NodeIndex) {
    let lib = library_file(
        dir,
        "metrics",
        "function Histogram() { this.hashMap = new Map(); }\n\
         Histogram.prototype.observe = function (k) { this.hashMap.set(k, { count: 1 }); };\n",
    );
    let app = dir.join("server.js");
    let mut h = Builder::new();
    h.script(1, &lib);
    h.script(2, &app);
    let handler = h.node(NodeType::Closure, "handle", 32);
    h.b.location(handler, 2, 3, 0);
    let module_scope = h.scope;
    h.edge(handler, EdgeType::Internal, "context", module_scope);
    let histogram = h.var("latency", NodeType::Object, "Histogram", 40);
    h.b.location(histogram, 1, 0, 18);
    let map = h.node(NodeType::Object, "Map", 40);
    let table = h.node(NodeType::Array, "system / OrderedHashMap", 64);
    let key = h.node(NodeType::String, "user:17", 32);
    let value = h.node(NodeType::Object, value_class, 64);
    h.edge(histogram, EdgeType::Property, "hashMap", map);
    h.edge(map, EdgeType::Internal, "table", table);
    h.edge(table, EdgeType::Internal, "3", key);
    h.edge(table, EdgeType::Internal, "4", value);
    (h.build(), value, map)
}

fn keys_grow(heap: &Heap, value: NodeIndex, map: NodeIndex) -> bool {
    let locator = heap.locator();
    let f = check(&heap.facts(&locator, value, map)).expect("a library collection");
    let Explanation::LibraryCollection { keys_grow, .. } = f.explanation else {
        panic!("{:?}", f.explanation)
    };
    keys_grow
}

#[test]
fn records_under_string_keys_in_one_shared_object_grow_by_their_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (heap, value, map) = keyed_map(dir.path(), "Object");
    assert!(keys_grow(&heap, value, map));
}

#[test]
fn groups_under_string_keys_are_not_keys_growing() {
    // A room per name, each a Set of members: the program joins groups, and leaving
    // them is the fix.
    let dir = tempfile::tempdir().unwrap();
    let (heap, value, map) = keyed_map(dir.path(), "Set");
    assert!(!keys_grow(&heap, value, map));
}

#[test]
fn removal_inherited_from_nodes_classes_is_not_offered() {
    // Without its own `eject`, the Manager has only generated routes and, a level up,
    // EventEmitter's `removeListener` (node:events): nothing to offer.
    let dir = tempfile::tempdir().unwrap();
    let lib = library_file(dir.path(), "client", MANAGER);
    let (h, record, list) = interceptors_with(&lib, &dir.path().join("server.js"), false);
    let heap = h.build();
    let locator = heap.locator();
    let f = check(&heap.facts(&locator, record, list)).expect("a handler list");
    let Explanation::HandlerList { removal, .. } = f.explanation else {
        panic!("{:?}", f.explanation)
    };
    assert!(removal.is_empty(), "{removal:?}");
}

#[test]
fn quiet_for_a_list_the_program_grows_itself() {
    // The same shapes in the program's own files: its collection, its fix (an LRU,
    // removing entries) is another rule's.
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("manager.js");
    std::fs::write(&own, MANAGER).unwrap();
    let (h, record, list) = interceptors(&own, &dir.path().join("server.js"));
    let heap = h.build();
    let locator = heap.locator();
    assert!(check(&heap.facts(&locator, record, list)).is_none());
}

#[test]
fn a_librarys_own_functions_on_its_entries_are_not_handlers() {
    // A metric object with its bound methods, kept in its library's registry: a
    // collection of the library's objects, not a handler list.
    let dir = tempfile::tempdir().unwrap();
    let lib = library_file(dir.path(), "client", MANAGER);
    let (h, record, list) = interceptors(&lib, &lib);
    let heap = h.build();
    let locator = heap.locator();
    let f = check(&heap.facts(&locator, record, list)).expect("a library collection");
    assert_eq!(f.pattern, Pattern::UnboundedCollection);
    let Explanation::LibraryCollection {
        holder_class,
        removal,
        ..
    } = f.explanation
    else {
        panic!("{:?}", f.explanation)
    };
    assert_eq!(holder_class.as_deref(), Some("Manager"));
    assert_eq!(removal, ["Manager.eject"]);
}

#[test]
fn fires_for_instances_kept_in_a_list_of_nodes_own_code() {
    // Node's async_hooks keep every enabled AsyncLocalStorage in a variable of their
    // module scope, which no function of the program shares.
    let mut h = Builder::new();
    h.script(3, Path::new("node:async_hooks"));
    let hooks = h.node(NodeType::Closure, "AsyncResource", 32);
    h.b.location(hooks, 3, 162, 13);
    let scope = h.scope;
    h.edge(hooks, EdgeType::Internal, "context", scope);
    let list = h.var("storageList", NodeType::Object, "Array", 32);
    let storage = h.node(NodeType::Object, "AsyncLocalStorage", 40);
    h.b.location(storage, 3, 284, 13);
    let proto = h.node(NodeType::Object, "AsyncLocalStorage", 40);
    let disable = h.node(NodeType::Closure, "disable", 32);
    let run = h.node(NodeType::Closure, "run", 32);
    h.edge(list, EdgeType::Element, "0", storage);
    h.edge(storage, EdgeType::Property, "__proto__", proto);
    h.edge(proto, EdgeType::Property, "disable", disable);
    h.edge(proto, EdgeType::Property, "run", run);
    // Older storages before the newest: the sample is the list's own entries.
    let older = h.node(NodeType::Object, "AsyncLocalStorage", 40);
    h.b.location(older, 3, 284, 13);
    h.edge(list, EdgeType::Element, "1", older);
    h.edge(older, EdgeType::Property, "__proto__", proto);
    let heap = h.build();
    let locator = heap.locator();
    let expected = Explanation::LibraryCollection {
        collection_class: "Array".into(),
        value_class: Some("AsyncLocalStorage".into()),
        holder_class: None,
        removal: vec!["AsyncLocalStorage.disable".into()],
        shared_by: None,
        values_have_class: true,
        returned_removal: None,
        keys_grow: false,
    };
    let f = check(&heap.facts(&locator, storage, list)).expect("a library collection");
    assert_eq!(f.pattern, Pattern::UnboundedCollection);
    assert_eq!(f.explanation, expected);
    // The same leak found as the list's entries growing (the suspect is the list): the
    // same pattern, owner and fix.
    let f = check(&heap.collection_facts(&locator, list)).expect("a library collection");
    assert_eq!(f.pattern, Pattern::UnboundedCollection);
    assert_eq!(f.owner.unwrap().path, "storageList");
    assert_eq!(f.explanation, expected);
}

#[test]
fn a_handler_list_growing_by_its_entries_is_a_handler_list() {
    // The interceptors' list found as a collection growing by itself: its newest
    // record's function is the program's.
    let dir = tempfile::tempdir().unwrap();
    let lib = library_file(dir.path(), "client", MANAGER);
    let app = dir.path().join("server.js");
    let (h, _, list) = interceptors(&lib, &app);
    let heap = h.build();
    let locator = heap.locator();
    let f = check(&heap.collection_facts(&locator, list)).expect("a handler list");
    assert_eq!(f.pattern, Pattern::EventListener);
    assert_eq!(f.location.unwrap().line, 10);
    assert_eq!(f.owner.unwrap().path, "Manager.handlers");
}

#[test]
fn quiet_for_a_collection_of_the_program_growing_by_itself() {
    let mut h = Builder::new();
    let samples = h.var("samples", NodeType::Object, "Array", 4000);
    let heap = h.build();
    let locator = heap.locator();
    assert!(check(&heap.collection_facts(&locator, samples)).is_none());
}

#[test]
fn quiet_for_a_scope_no_function_of_nodes_uses() {
    // A scope whose functions have no known position is nobody's in particular: other
    // rules' business.
    let mut h = Builder::new();
    let list = h.var("samples", NodeType::Object, "Array", 32);
    let item = h.node(NodeType::Object, "Item", 40);
    h.edge(list, EdgeType::Element, "0", item);
    let heap = h.build();
    let locator = heap.locator();
    assert!(check(&heap.facts(&locator, item, list)).is_none());
}

#[test]
fn quiet_for_a_collection_in_the_programs_module_scope() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("server.js");
    let mut h = Builder::new();
    h.script(2, &app);
    // A function of the program's module uses the scope.
    let handler = h.node(NodeType::Closure, "handle", 32);
    h.b.location(handler, 2, 3, 0);
    let scope = h.scope;
    h.edge(handler, EdgeType::Internal, "context", scope);
    let map = h.var("userCache", NodeType::Object, "Map", 40);
    let table = h.node(NodeType::Array, "", 64);
    let user = h.node(NodeType::Object, "User", 64);
    h.edge(map, EdgeType::Internal, "table", table);
    h.edge(table, EdgeType::Internal, "3", user);
    let heap = h.build();
    let locator = heap.locator();
    assert!(check(&heap.facts(&locator, user, map)).is_none());
}
