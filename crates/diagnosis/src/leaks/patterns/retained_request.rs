//! `retained-request`: request, response or socket objects kept after their request ended.
//!
//! Node's HTTP server creates an `IncomingMessage` and a `ServerResponse` per request and a
//! `Socket` per connection; once the response is sent nothing in Node holds them. When their
//! number rises at every step, the program keeps them — and with them headers, parsers and
//! buffers, several kilobytes each. Often not by themselves but inside a record of the
//! program's (`{ res, timer }`, a long-poll waiter parked in a Map): then the records are what
//! accumulates, and the request object in a property of each is why they weigh.

use leakhunt_findings::Explanation;

use super::suspect_facts::{NodeKind, SuspectFacts};
use super::unbounded_collection::GROW_METHODS;
use super::{Finding, Pattern};

const REQUEST_CLASSES: [&str; 8] = [
    "IncomingMessage",
    "ServerResponse",
    "Socket",
    "TLSSocket",
    "ClientRequest",
    "Http2ServerRequest",
    "Http2ServerResponse",
    "ServerHttp2Stream",
];

pub fn check(f: &SuspectFacts) -> Option<Finding> {
    let record = if REQUEST_CLASSES.contains(&f.object().class) {
        None
    } else {
        Some(f.property_of_class(&REQUEST_CLASSES)?)
    };
    // The collection keeping them: the first holder that is neither Node's own plumbing nor
    // storage.
    let (index, keeper) = f
        .holders()
        .find(|(_, h)| !REQUEST_CLASSES.contains(&h.class) && h.kind != NodeKind::Storage)?;
    let location = f
        .growth_site(index, &GROW_METHODS)
        .or_else(|| f.closure_above().cloned());
    Some(Finding {
        pattern: Pattern::RetainedRequest,
        location,
        owner: f.owner(index),
        captured: Vec::new(),
        explanation: Explanation::RetainedRequest {
            holder_class: keeper.class.to_string(),
            record: record.map(|(property, class)| leakhunt_findings::RequestInRecord {
                property: property.to_string(),
                class: class.to_string(),
            }),
        },
    })
}

#[cfg(test)]
mod tests {
    use leakhunt_engine::{EdgeType, NodeType};

    use super::*;
    use crate::leaks::patterns::testing::Builder;

    fn kept(class: &str) -> Option<Finding> {
        let mut h = Builder::new();
        let list = h.var("recent", NodeType::Object, "Array", 32);
        let req = h.node(NodeType::Object, class, 400);
        h.edge(list, EdgeType::Element, "0", req);
        let heap = h.build();
        let locator = heap.locator();
        check(&heap.facts(&locator, req, list))
    }

    #[test]
    fn fires_for_kept_incoming_messages() {
        let f = kept("IncomingMessage").expect("a retained request");
        assert_eq!(f.owner.unwrap().path, "recent");
    }

    #[test]
    fn quiet_for_the_programs_own_request_objects() {
        assert!(kept("RequestRecord").is_none());
    }

    /// Long-poll waiters `{ res, timer }` parked in a module's Map.
    fn parked(value_class: &str) -> Option<Finding> {
        let mut h = Builder::new();
        let map = h.var("waiters", NodeType::Object, "Map", 40);
        let table = h.node(NodeType::Array, "", 64);
        let waiter = h.node(NodeType::Object, "Object", 40);
        let res = h.node(NodeType::Object, value_class, 400);
        let timer = h.node(NodeType::Object, "Timeout", 80);
        h.edge(map, EdgeType::Internal, "table", table);
        h.edge(table, EdgeType::Internal, "3", waiter);
        h.edge(waiter, EdgeType::Property, "res", res);
        h.edge(waiter, EdgeType::Property, "timer", timer);
        let heap = h.build();
        let locator = heap.locator();
        check(&heap.facts(&locator, waiter, map))
    }

    #[test]
    fn fires_for_records_holding_a_response() {
        let f = parked("ServerResponse").expect("a retained request");
        assert_eq!(f.owner.unwrap().path, "waiters");
        assert_eq!(
            f.explanation,
            Explanation::RetainedRequest {
                holder_class: "Map".into(),
                record: Some(leakhunt_findings::RequestInRecord {
                    property: "res".into(),
                    class: "ServerResponse".into(),
                }),
            }
        );
    }

    #[test]
    fn quiet_for_records_without_a_request() {
        assert!(parked("Message").is_none());
    }
}
