//! `other`: none of the patterns. The suspect is still reported with its path, for a person
//! to follow up to the first object their code owns; the first holder and the code nearest
//! above it say where to start.

use leakhunt_findings::Explanation;

use super::suspect_facts::SuspectFacts;
use super::{Finding, Pattern};

pub fn check(f: &SuspectFacts) -> Option<Finding> {
    let holder_class = f.holders().next().map(|(_, h)| h.class.to_string());
    let location = f.closure_above().or(f.object().location.as_ref()).cloned();
    Some(Finding {
        pattern: Pattern::Other,
        location,
        owner: None,
        captured: Vec::new(),
        explanation: Explanation::Other { holder_class },
    })
}

#[cfg(test)]
mod tests {
    use leakhunt_engine::NodeType;

    use super::*;
    use crate::leaks::patterns::testing::Builder;

    #[test]
    fn fires_for_anything_naming_its_first_holder() {
        let mut h = Builder::new();
        let thing = h.var("thing", NodeType::Object, "Widget", 32);
        let heap = h.build();
        let f = check(&heap.facts(&heap.locator(), thing, thing)).unwrap();
        assert_eq!(f.pattern, Pattern::Other);
        assert_eq!(
            f.explanation,
            Explanation::Other {
                holder_class: Some("system / Context".into())
            }
        );
    }

    #[test]
    fn without_holders_it_names_none() {
        // The rule always matches (it is the last for objects); with no path, no holder.
        let mut h = Builder::new();
        let thing = h.var("thing", NodeType::Object, "Widget", 32);
        let heap = h.build();
        let locator = heap.locator();
        let path = leakhunt_engine::RetainerPath {
            target: thing,
            steps: Vec::new(),
        };
        let f = crate::leaks::patterns::suspect_facts::SuspectFacts::new(
            &locator,
            &path,
            None,
            false,
            &heap.growth,
        );
        let found = check(&f).unwrap();
        assert_eq!(found.explanation, Explanation::Other { holder_class: None });
    }
}
