//! Leak patterns: which way a suspect is held, in terms a Node.js engineer acts on. The
//! rules see a suspect's facts ([`suspect_facts`]: its object and the holders on its path,
//! found once) and give the pattern, the code to change and the facts an explanation is
//! made of; the printer words them.
//!
//! [`RULES`] is tried in order and the first rule that matches wins: how an object is *held*
//! (a listener list, a timer list) says more about the fix than what it *is*. One file per
//! rule: what it recognises and why, and its tests (one graph where it fires, one where it
//! stays quiet).

mod closure_capture;
mod event_listener;
mod growing_collection;
mod growing_string;
mod handler_list;
mod other;
mod pending_promise;
mod retained_request;
pub mod suspect_facts;
mod timer;
mod unbounded_collection;

#[cfg(test)]
pub(crate) mod testing;

use leakhunt_engine::{NodeIndex, RetainerPath};
pub use leakhunt_findings::Pattern;
use leakhunt_findings::{Captured, Explanation, Owner, SourceLocation, Suspect};

use super::growth::Growth;
use crate::locator::Locator;
use suspect_facts::SuspectFacts;

/// What a matching rule found: facts, not words.
pub struct Finding {
    pub pattern: Pattern,
    /// In the script that runs; mapped for display when the suspect is made.
    pub location: Option<SourceLocation>,
    pub owner: Option<Owner>,
    pub captured: Vec<Captured>,
    pub explanation: Explanation,
}

/// Which suspects a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// Objects that accumulate (the suspect's object is one of them).
    Objects,
    /// A collection growing by itself: entries without new objects of their own.
    Collection,
    Both,
}

pub struct Rule {
    pub name: &'static str,
    pub subject: Subject,
    pub check: fn(&SuspectFacts) -> Option<Finding>,
}

/// The rules, in the order they are tried. The last rule for each subject always matches.
pub const RULES: [Rule; 10] = [
    Rule {
        name: "retained-request",
        subject: Subject::Objects,
        check: retained_request::check,
    },
    Rule {
        name: "event-listener",
        subject: Subject::Both,
        check: event_listener::check,
    },
    Rule {
        name: "timer",
        subject: Subject::Both,
        check: timer::check,
    },
    Rule {
        name: "handler-list",
        subject: Subject::Both,
        check: handler_list::check,
    },
    Rule {
        name: "pending-promise",
        subject: Subject::Objects,
        check: pending_promise::check,
    },
    Rule {
        name: "closure-capture",
        subject: Subject::Objects,
        check: closure_capture::check,
    },
    Rule {
        name: "unbounded-collection",
        subject: Subject::Objects,
        check: unbounded_collection::check,
    },
    Rule {
        name: "growing-collection",
        subject: Subject::Collection,
        check: growing_collection::check,
    },
    Rule {
        name: "growing-string",
        subject: Subject::Objects,
        check: growing_string::check,
    },
    Rule {
        name: "other",
        subject: Subject::Objects,
        check: other::check,
    },
];

/// The first rule's finding for these facts.
pub fn classify(facts: &SuspectFacts) -> Finding {
    let subject = if facts.is_collection {
        Subject::Collection
    } else {
        Subject::Objects
    };
    RULES
        .iter()
        .filter(|r| r.subject == subject || r.subject == Subject::Both)
        .find_map(|r| (r.check)(facts))
        .expect("the last rule for each subject always matches")
}

/// Builds the suspect for a representative object: path, pattern, location, facts.
/// `anchor` is the object the growth accumulates under; `is_collection` when the suspect is
/// a collection growing by itself (then `object` is that collection).
pub fn explain(
    locator: &Locator,
    object: NodeIndex,
    anchor: Option<NodeIndex>,
    is_collection: bool,
    growth: Growth,
) -> Suspect {
    let path = locator
        .analysis()
        .shortest_path(object)
        .unwrap_or(RetainerPath {
            target: object,
            steps: Vec::new(),
        });
    let facts = SuspectFacts::new(locator, &path, anchor, is_collection, &growth);
    let finding = classify(&facts);
    Suspect {
        pattern: finding.pattern,
        class: facts.object().class.to_string(),
        count_per_step: growth.count_per_step,
        count_unit: growth.unit.unwrap_or_else(|| facts.count_unit()),
        bytes_per_step: growth.bytes_per_step,
        retained_bytes: *growth.series.bytes.last().unwrap_or(&0),
        count_by_snapshot: growth.series.counts,
        bytes_by_snapshot: growth.series.bytes,
        // Rules work on the JavaScript that runs (and read it); people read the original
        // source.
        location: finding
            .location
            .map(|l| locator.display(facts.with_function(l))),
        owner: finding.owner,
        captured: finding.captured,
        one_entry_per_new_key: false,
        explanation: finding.explanation,
        path: locator.path(&path),
        allocation_stacks: Vec::new(),
        library_location: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_subject_ends_with_a_rule_that_always_matches() {
        for subject in [Subject::Objects, Subject::Collection] {
            let last = RULES
                .iter()
                .rfind(|r| r.subject == subject || r.subject == Subject::Both)
                .unwrap();
            assert!(
                ["other", "growing-collection"].contains(&last.name),
                "{subject:?}: {}",
                last.name
            );
        }
    }
}
