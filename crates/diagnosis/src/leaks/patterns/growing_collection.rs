//! `unbounded-collection`, for a collection that grows with no new objects under it: an
//! array of numbers (V8 stores them inside the array), entries that point at shared values.
//! The suspect's object is the collection itself, named by how it is held. Listener and timer
//! lists are tried first: how a list is held says more than what it is.

use super::suspect_facts::SuspectFacts;
use super::unbounded_collection::finding;
use super::Finding;

pub fn check(f: &SuspectFacts) -> Option<Finding> {
    Some(finding(f, 0, None, Some(f.count_now)))
}

#[cfg(test)]
mod tests {
    use leakhunt_engine::{EdgeType, NodeType};
    use leakhunt_findings::{Explanation, OwnerKind, Pattern};

    use super::*;
    use crate::leaks::patterns::testing::Builder;

    #[test]
    fn names_the_collection_by_its_variable_with_its_entries_now() {
        let mut h = Builder::new();
        let samples = h.var("samples", NodeType::Object, "Array", 4000);
        let heap = h.build();
        let locator = heap.locator();
        let f = check(&heap.collection_facts(&locator, samples)).unwrap();
        assert_eq!(f.pattern, Pattern::UnboundedCollection);
        let owner = f.owner.unwrap();
        assert_eq!(
            (owner.kind, owner.path.as_str()),
            (OwnerKind::ClosureVariable, "samples")
        );
        assert_eq!(
            f.explanation,
            Explanation::UnboundedCollection {
                collection_class: "Array".into(),
                value_class: None,
                entries_now: Some(3)
            }
        );
    }

    #[test]
    fn quiet_for_objects_that_accumulate() {
        // Objects growing under a collection are `unbounded_collection`'s, not this rule's.
        let mut h = Builder::new();
        let samples = h.var("samples", NodeType::Object, "Array", 4000);
        let item = h.node(NodeType::Object, "Item", 40);
        h.edge(samples, EdgeType::Element, "0", item);
        let heap = h.build();
        let locator = heap.locator();
        let f = heap.facts(&locator, item, samples);
        let finding = super::super::classify(&f);
        assert_eq!(
            finding.explanation,
            Explanation::UnboundedCollection {
                collection_class: "Array".into(),
                value_class: Some("Item".into()),
                entries_now: None
            }
        );
    }
}
