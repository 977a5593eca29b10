//! `event-listener`: retained through a listener list that only grows.
//!
//! Node keeps an EventEmitter's listeners in its `_events` object (one function, or an array
//! per event name); sockets, streams, servers and most libraries' emitters are EventEmitters.
//! Node's EventTarget (AbortSignal, WebSocket, MessagePort …) keeps them under the symbol
//! `kEvents`, in a map of linked `Listener` records. A listener is a closure, so everything it
//! captures lives as long as the emitter unless the listener is removed.
//!
//! When each listener comes with an event name of its own (`emitter.on('user:' + id, fn)`),
//! what grows is `_events` itself: a key per name, one listener under each. The fix is then
//! not only removing the listener but one event name with the id in the payload.
//!
//! The growth must be the listener list itself, with nothing but storage between: a Map that
//! a request handler fills is not a listener leak, though the shortest path to it runs
//! through the server's `_events.request`.

use leakhunt_engine::graph::EdgeType;
use leakhunt_findings::{Explanation, Owner, OwnerKind};

use super::suspect_facts::SuspectFacts;
use super::{Finding, Pattern};

pub fn check(f: &SuspectFacts) -> Option<Finding> {
    // The emitter is the node whose reference down the path is `_events` or the kEvents
    // symbol: `nodes[j]` is held by the emitter `nodes[j + 1]` that way.
    let (j, is_emitter) = (1..f.nodes.len().saturating_sub(1)).find_map(|j| {
        let name = f.nodes[j].held_as.and_then(|e| e.name).unwrap_or("");
        let is_emitter = name == "_events";
        (is_emitter || name.contains("kEvents")).then_some((j, is_emitter))
    })?;
    // An emitter's `_events` holds a listener or an array of them per event name, so the
    // growth sits at most one below it; an EventTarget's listeners are linked records in a
    // map, any depth of storage.
    if !f.held_directly_by(j + 1) || (is_emitter && j > f.growth + 1) {
        return None;
    }
    // The event name: for `_events`, the property below it on the path; for an EventTarget,
    // the key beside the listener list in the kEvents map's table.
    let event = if is_emitter {
        f.nodes[j - 1]
            .held_as
            .and_then(|e| e.name)
            .map(str::to_string)
    } else {
        f.table_key_below(j)
    };
    let emitter_class = f.nodes[j + 1].class;
    let owner = if emitter_class == "process" {
        // The one `process` object, whatever internal variable the path found it in.
        Some(Owner {
            kind: OwnerKind::Process,
            module: None,
            path: "process".into(),
        })
    } else if f.nodes[j + 1]
        .held_as
        .is_some_and(|e| e.kind == EdgeType::Internal)
    {
        // Held by the runtime's internals (a socket by its handle's bound callback): no
        // name the program uses for it.
        None
    } else {
        f.owner(j + 1)
    };
    // The growth accumulates right under `_events` (not under one name's listener array):
    // every listener brings a name of its own.
    let names_grow = is_emitter && f.growth == j;
    // The listener's own name: V8 names a function by its declaration, or by the variable
    // or property it was first assigned to, so the program has it in hand to pass back.
    let handler = f.callback_name().filter(|n| is_identifier(n));
    let removal = removal_call(
        owner.as_ref(),
        event.as_deref(),
        handler.as_deref(),
        is_emitter,
    );
    Some(Finding {
        pattern: Pattern::EventListener,
        location: f.callback().or(f.closure_above()).cloned(),
        owner,
        captured: Vec::new(),
        explanation: Explanation::EventListener {
            emitter_class: emitter_class.to_string(),
            event,
            event_names_grow: names_grow,
            handler,
            removal,
        },
    })
}

/// `bus.off('message', onMessage)`: the call that removes one listener, in the program's
/// names, when the emitter has a name the program can write (a variable, a property path,
/// `process`) and the event name is a plain string. An EventTarget's call is
/// `removeEventListener`; an unnamed handler is written `listener`.
fn removal_call(
    owner: Option<&Owner>,
    event: Option<&str>,
    handler: Option<&str>,
    is_emitter: bool,
) -> Option<String> {
    let owner = owner?;
    // Names the program writes: its variables, a module's exports, `process`. (A property
    // owner reads `Class.prop`, a class's name for an instance the program may not have.)
    let emitter = match owner.kind {
        OwnerKind::ModuleExport => owner.path.strip_prefix("exports.").unwrap_or(&owner.path),
        OwnerKind::ModuleVariable | OwnerKind::ClosureVariable | OwnerKind::Process => {
            owner.path.as_str()
        }
        _ => return None,
    };
    if !emitter.split('.').all(is_identifier) {
        return None;
    }
    let event = event.filter(|e| !e.contains(['\'', '\\', '\n']) && !e.starts_with("<symbol"))?;
    let method = if is_emitter {
        "off"
    } else {
        "removeEventListener"
    };
    let handler = handler.unwrap_or("listener");
    Some(format!("{emitter}.{method}('{event}', {handler})"))
}

/// A JavaScript identifier as code writes it (`onMessage`, `$handler`), not a name V8 makes
/// up (`bound onMessage`, `get value`) or a private field.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use leakhunt_engine::{EdgeType, NodeIndex, NodeType};

    use super::*;
    use crate::leaks::patterns::testing::{Builder, Heap};

    /// `bus._events.message` holds a listener named `name` (empty: an arrow function passed
    /// inline), a function of the program's `server.js`.
    fn bus_with_listener(name: &str) -> (Heap, NodeIndex, NodeIndex) {
        let mut h = Builder::new();
        h.script(1, Path::new("/srv/app/server.js"));
        let bus = h.var("bus", NodeType::Object, "EventEmitter", 40);
        let events = h.node(NodeType::Object, "Object", 40);
        let list = h.node(NodeType::Object, "Array", 32);
        let listener = h.node(NodeType::Closure, name, 32);
        h.b.location(listener, 1, 11, 2);
        h.edge(bus, EdgeType::Property, "_events", events);
        h.edge(events, EdgeType::Property, "message", list);
        h.edge(list, EdgeType::Element, "0", listener);
        (h.build(), listener, list)
    }

    #[test]
    fn fires_for_a_closure_in_an_emitters_listener_array() {
        let (heap, listener, list) = bus_with_listener("onMessage");
        let f = check(&heap.facts(&heap.locator(), listener, list)).expect("an event listener");
        assert_eq!(f.pattern, Pattern::EventListener);
        assert_eq!(
            f.explanation,
            Explanation::EventListener {
                emitter_class: "EventEmitter".into(),
                event: Some("message".into()),
                event_names_grow: false,
                handler: Some("onMessage".into()),
                removal: Some("bus.off('message', onMessage)".into()),
            }
        );
        assert_eq!(f.owner.unwrap().path, "bus");
    }

    #[test]
    fn an_unnamed_handler_is_written_as_a_placeholder() {
        let (heap, listener, list) = bus_with_listener("");
        let f = check(&heap.facts(&heap.locator(), listener, list)).expect("an event listener");
        let Explanation::EventListener {
            handler, removal, ..
        } = f.explanation
        else {
            panic!("{:?}", f.explanation)
        };
        assert_eq!(handler, None);
        assert_eq!(removal.as_deref(), Some("bus.off('message', listener)"));
    }

    #[test]
    fn a_named_function_written_inline_is_not_in_hand() {
        // `bus.on('message', function onMessage(m) {…})`: the name is only the function's own.
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("server.js");
        let line = "  bus.on('message', function onMessage(m) { seen.push(m); });\n";
        std::fs::write(&app, format!("{}{line}", "\n".repeat(11))).unwrap();
        let mut h = Builder::new();
        h.script(1, &app);
        let bus = h.var("bus", NodeType::Object, "EventEmitter", 40);
        let events = h.node(NodeType::Object, "Object", 40);
        let list = h.node(NodeType::Object, "Array", 32);
        let listener = h.node(NodeType::Closure, "onMessage", 32);
        h.b.location(listener, 1, 11, 38);
        h.edge(bus, EdgeType::Property, "_events", events);
        h.edge(events, EdgeType::Property, "message", list);
        h.edge(list, EdgeType::Element, "0", listener);
        let heap = h.build();
        let f = check(&heap.facts(&heap.locator(), listener, list)).expect("an event listener");
        let Explanation::EventListener {
            handler, removal, ..
        } = f.explanation
        else {
            panic!("{:?}", f.explanation)
        };
        assert_eq!(handler, None);
        assert_eq!(removal.as_deref(), Some("bus.off('message', listener)"));
    }

    #[test]
    fn a_name_v8_makes_up_is_not_the_programs() {
        // A bound function: the program holds no `bound onMessage`.
        let (heap, listener, list) = bus_with_listener("bound onMessage");
        let f = check(&heap.facts(&heap.locator(), listener, list)).expect("an event listener");
        let Explanation::EventListener { handler, .. } = f.explanation else {
            panic!("{:?}", f.explanation)
        };
        assert_eq!(handler, None);
    }

    #[test]
    fn an_emitter_with_no_name_the_program_writes_gets_no_call() {
        // Reached through an instance's property: `Hub.bus` is a class's name, not a
        // variable the program can call `off` on.
        let mut h = Builder::new();
        let hubs = h.var("hubs", NodeType::Object, "Array", 32);
        let hub = h.node(NodeType::Object, "Hub", 40);
        let bus = h.node(NodeType::Object, "EventEmitter", 40);
        let events = h.node(NodeType::Object, "Object", 40);
        let list = h.node(NodeType::Object, "Array", 32);
        let listener = h.node(NodeType::Closure, "onMessage", 32);
        h.edge(hubs, EdgeType::Element, "0", hub);
        h.edge(hub, EdgeType::Property, "bus", bus);
        h.edge(bus, EdgeType::Property, "_events", events);
        h.edge(events, EdgeType::Property, "message", list);
        h.edge(list, EdgeType::Element, "0", listener);
        let heap = h.build();
        let f = check(&heap.facts(&heap.locator(), listener, list)).expect("an event listener");
        let Explanation::EventListener { removal, .. } = f.explanation else {
            panic!("{:?}", f.explanation)
        };
        assert_eq!(removal, None);
    }

    #[test]
    fn a_new_event_name_per_listener_is_told_apart() {
        // `hub.on('user:' + id, fn)`: one listener under each of many names.
        let mut h = Builder::new();
        let hub = h.var("hub", NodeType::Object, "EventEmitter", 40);
        let events = h.node(NodeType::Object, "Object", 40);
        h.edge(hub, EdgeType::Property, "_events", events);
        let mut first = None;
        for id in 0..40 {
            let listener = h.node(NodeType::Closure, "onNote", 32);
            h.edge(events, EdgeType::Property, &format!("user:{id}"), listener);
            first.get_or_insert(listener);
        }
        let heap = h.build();
        let f = check(&heap.facts(&heap.locator(), first.unwrap(), events)).expect("a listener");
        assert_eq!(
            f.explanation,
            Explanation::EventListener {
                emitter_class: "EventEmitter".into(),
                event: Some("user:0".into()),
                event_names_grow: true,
                handler: None,
                removal: Some("hub.off('user:0', listener)".into()),
            }
        );
    }

    #[test]
    fn the_process_object_is_named_process() {
        let mut h = Builder::new();
        let process = h.var("_process", NodeType::Object, "process", 40);
        let events = h.node(NodeType::Object, "Object", 40);
        let list = h.node(NodeType::Object, "Array", 32);
        let listener = h.node(NodeType::Closure, "flush", 32);
        h.edge(process, EdgeType::Property, "_events", events);
        h.edge(events, EdgeType::Property, "SIGTERM", list);
        h.edge(list, EdgeType::Element, "0", listener);
        let heap = h.build();
        let f = check(&heap.facts(&heap.locator(), listener, list)).expect("an event listener");
        assert_eq!(f.owner.unwrap().kind, OwnerKind::Process);
    }

    #[test]
    fn quiet_for_a_closure_in_a_plain_array() {
        let mut h = Builder::new();
        let list = h.var("callbacks", NodeType::Object, "Array", 32);
        let callback = h.node(NodeType::Closure, "done", 32);
        h.edge(list, EdgeType::Element, "0", callback);
        let heap = h.build();
        assert!(check(&heap.facts(&heap.locator(), callback, list)).is_none());
    }

    #[test]
    fn quiet_for_a_module_collection_the_request_handler_uses() {
        // `server.on('request', handler)` where the handler adds to a module-level Map: the
        // shortest path to the Map runs through the server's `_events`, one scope away.
        let mut h = Builder::new();
        let server = h.var("server", NodeType::Object, "Server", 40);
        let events = h.node(NodeType::Object, "Object", 40);
        let handler = h.node(NodeType::Closure, "handle", 32);
        let scope = h.node(NodeType::Object, "system / Context", 40);
        let rooms = h.node(NodeType::Object, "Map", 32);
        let table = h.node(NodeType::Array, "system / OrderedHashMap", 64);
        let room = h.node(NodeType::Object, "Set", 64);
        h.edge(server, EdgeType::Property, "_events", events);
        h.edge(events, EdgeType::Property, "request", handler);
        h.edge(handler, EdgeType::Internal, "context", scope);
        h.edge(scope, EdgeType::Context, "rooms", rooms);
        h.edge(rooms, EdgeType::Internal, "table", table);
        h.edge(table, EdgeType::Internal, "3", room);
        let heap = h.build();
        assert!(check(&heap.facts(&heap.locator(), room, rooms)).is_none());
        assert!(
            check(&heap.facts(&heap.locator(), rooms, rooms)).is_none(),
            "nor for the Map growing by itself"
        );
    }

    #[test]
    fn quiet_when_the_listener_list_is_far_above_the_growth() {
        // A request handler is a listener; what it keeps in its own array is not.
        let mut h = Builder::new();
        let server = h.var("server", NodeType::Object, "Server", 40);
        let events = h.node(NodeType::Object, "Object", 40);
        let handler = h.node(NodeType::Closure, "handle", 32);
        let scope = h.node(NodeType::Object, "system / Context", 40);
        let a1 = h.node(NodeType::Object, "Wrapper", 10);
        let a2 = h.node(NodeType::Object, "Wrapper", 10);
        let a3 = h.node(NodeType::Object, "Wrapper", 10);
        let kept = h.node(NodeType::Object, "Array", 32);
        let item = h.node(NodeType::Object, "Item", 64);
        h.edge(server, EdgeType::Property, "_events", events);
        h.edge(events, EdgeType::Property, "request", handler);
        h.edge(handler, EdgeType::Internal, "context", scope);
        h.edge(scope, EdgeType::Context, "w1", a1);
        h.edge(a1, EdgeType::Property, "w2", a2);
        h.edge(a2, EdgeType::Property, "w3", a3);
        h.edge(a3, EdgeType::Property, "kept", kept);
        h.edge(kept, EdgeType::Element, "0", item);
        let heap = h.build();
        assert!(check(&heap.facts(&heap.locator(), item, kept)).is_none());
    }
}
