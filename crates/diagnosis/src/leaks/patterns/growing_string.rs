//! `other`, explained as a string that only grows, held by a variable or property:
//! `log += line` makes a new string whose first half is the old one (V8's concatenated
//! strings), so a string built up by appending keeps every piece ever appended.

use leakhunt_findings::Explanation;

use super::suspect_facts::{NodeKind, SuspectFacts};
use super::{Finding, Pattern};

pub fn check(f: &SuspectFacts) -> Option<Finding> {
    if f.object().kind != NodeKind::String {
        return None;
    }
    // Named by the variable or property holding it, the one `+=` grows.
    let owner = f.owner(0)?;
    let location = f
        .growth_site(0, &["concat"])
        .or_else(|| f.closure_above().cloned());
    Some(Finding {
        pattern: Pattern::Other,
        location,
        owner: Some(owner),
        captured: Vec::new(),
        explanation: Explanation::GrowingString,
    })
}

#[cfg(test)]
mod tests {
    use leakhunt_engine::{EdgeType, NodeType};

    use super::*;
    use crate::leaks::patterns::testing::Builder;

    #[test]
    fn fires_for_a_string_appended_to_in_a_variable() {
        let mut h = Builder::new();
        let log = h.var(
            "auditLog",
            NodeType::ConsString,
            "(concatenated string)",
            32,
        );
        let old = h.node(NodeType::ConsString, "(concatenated string)", 32);
        let piece = h.node(NodeType::String, "GET /users/7", 32);
        h.edge(log, EdgeType::Internal, "first", old);
        h.edge(log, EdgeType::Internal, "second", piece);
        let heap = h.build();
        let f = check(&heap.facts(&heap.locator(), log, log)).expect("a growing string");
        assert_eq!(f.owner.unwrap().path, "auditLog");
        assert_eq!(f.explanation, Explanation::GrowingString);
    }

    #[test]
    fn quiet_for_other_objects() {
        let mut h = Builder::new();
        let thing = h.var("thing", NodeType::Object, "Widget", 32);
        let heap = h.build();
        assert!(check(&heap.facts(&heap.locator(), thing, thing)).is_none());
    }
}
