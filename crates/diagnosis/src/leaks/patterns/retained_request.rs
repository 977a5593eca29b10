//! `retained-request`: request, response or socket objects kept after their request ended.
//!
//! Node's HTTP server creates an `IncomingMessage` and a `ServerResponse` per request and a
//! `Socket` per connection; once the response is sent nothing in Node holds them. When their
//! number rises at every step, the program keeps them — and with them headers, parsers and
//! buffers, several kilobytes each.

use leakhunt_findings::Explanation;

use super::suspect_facts::SuspectFacts;
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
    if !REQUEST_CLASSES.contains(&f.object().class) {
        return None;
    }
    // The collection keeping them: the first holder that is not Node's own plumbing.
    let (index, keeper) = f
        .holders()
        .find(|(_, h)| !REQUEST_CLASSES.contains(&h.class))?;
    let location = f
        .growth_site(index, &["push", "set", "add", "unshift"])
        .or_else(|| f.closure_above().cloned());
    Some(Finding {
        pattern: Pattern::RetainedRequest,
        location,
        owner: f.owner(index),
        captured: Vec::new(),
        explanation: Explanation::RetainedRequest {
            holder_class: keeper.class.to_string(),
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
}
