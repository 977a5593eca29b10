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
    Some(Finding {
        pattern: Pattern::EventListener,
        location: f.callback().or(f.closure_above()).cloned(),
        owner,
        captured: Vec::new(),
        explanation: Explanation::EventListener {
            emitter_class: emitter_class.to_string(),
            event,
            event_names_grow: names_grow,
        },
    })
}

#[cfg(test)]
mod tests {
    use leakhunt_engine::{EdgeType, NodeType};

    use super::*;
    use crate::leaks::patterns::testing::Builder;

    #[test]
    fn fires_for_a_closure_in_an_emitters_listener_array() {
        let mut h = Builder::new();
        let bus = h.var("bus", NodeType::Object, "EventEmitter", 40);
        let events = h.node(NodeType::Object, "Object", 40);
        let list = h.node(NodeType::Object, "Array", 32);
        let listener = h.node(NodeType::Closure, "onMessage", 32);
        h.edge(bus, EdgeType::Property, "_events", events);
        h.edge(events, EdgeType::Property, "message", list);
        h.edge(list, EdgeType::Element, "0", listener);
        let heap = h.build();
        let f = check(&heap.facts(&heap.locator(), listener, list)).expect("an event listener");
        assert_eq!(f.pattern, Pattern::EventListener);
        assert_eq!(
            f.explanation,
            Explanation::EventListener {
                emitter_class: "EventEmitter".into(),
                event: Some("message".into()),
                event_names_grow: false,
            }
        );
        assert_eq!(f.owner.unwrap().path, "bus");
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
