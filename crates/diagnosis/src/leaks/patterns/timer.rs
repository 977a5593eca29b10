//! `timer`: retained by a timer that is never cleared.
//!
//! Node keeps every pending timer in a per-duration list (`TimersList`, a linked list of
//! `Timeout` objects through `_idleNext`/`_idlePrev`) and `setImmediate` callbacks in an
//! `ImmediateList`. A `setInterval` stays there until `clearInterval`; its callback (`_onTimeout`)
//! and everything it captures stay with it. What a timer's callback fills is not the timer's
//! growth: the objects must be timers, or sit in a timer's own storage.

use leakhunt_engine::graph::EdgeType;
use leakhunt_findings::Explanation;

use super::suspect_facts::SuspectFacts;
use super::{Finding, Pattern};

const TIMER_CLASSES: [&str; 4] = ["Timeout", "Immediate", "TimersList", "ImmediateList"];

pub fn check(f: &SuspectFacts) -> Option<Finding> {
    let is_timer = |class: &str| TIMER_CLASSES.contains(&class);
    let via_timer = is_timer(f.object().class)
        || f.holders()
            .any(|(i, h)| is_timer(h.class) && f.held_directly_by(i));
    if !via_timer {
        return None;
    }
    // The timer lists are keyed by duration: `timerListMap[60000]`.
    let duration_ms = f.holders().find_map(|(_, list)| {
        let held_as = list.held_as?;
        (list.class == "TimersList" && held_as.kind == EdgeType::Element).then_some(held_as.index)
    });
    Some(Finding {
        pattern: Pattern::Timer,
        location: f.callback().or(f.closure_above()).cloned(),
        owner: None,
        captured: Vec::new(),
        explanation: Explanation::Timer { duration_ms },
    })
}

#[cfg(test)]
mod tests {
    use leakhunt_engine::{EdgeType, NodeType};

    use super::*;
    use crate::leaks::patterns::testing::Builder;

    #[test]
    fn fires_for_a_timeout_in_a_timer_list() {
        let mut h = Builder::new();
        let lists = h.var("timerListMap", NodeType::Object, "Object", 40);
        let list = h.node(NodeType::Object, "TimersList", 40);
        let t = h.node(NodeType::Object, "Timeout", 80);
        let cb = h.node(NodeType::Closure, "refresh", 32);
        h.edge(lists, EdgeType::Element, "60000", list);
        h.edge(list, EdgeType::Property, "_idleNext", t);
        h.edge(t, EdgeType::Property, "_onTimeout", cb);
        let heap = h.build();
        let f = check(&heap.facts(&heap.locator(), t, list)).expect("a timer");
        assert_eq!(
            f.explanation,
            Explanation::Timer {
                duration_ms: Some(60000)
            }
        );
    }

    #[test]
    fn quiet_for_a_collection_a_timer_callback_uses() {
        // An interval's callback closes over a module's cache: the cache grows, not the timers.
        let mut h = Builder::new();
        let list = h.var("timers", NodeType::Object, "TimersList", 40);
        let t = h.node(NodeType::Object, "Timeout", 80);
        let cb = h.node(NodeType::Closure, "sweep", 32);
        let scope = h.node(NodeType::Object, "system / Context", 40);
        let cache = h.node(NodeType::Object, "Array", 32);
        let entry = h.node(NodeType::Object, "Entry", 64);
        h.edge(list, EdgeType::Property, "_idleNext", t);
        h.edge(t, EdgeType::Property, "_onTimeout", cb);
        h.edge(cb, EdgeType::Internal, "context", scope);
        h.edge(scope, EdgeType::Context, "cache", cache);
        h.edge(cache, EdgeType::Element, "0", entry);
        let heap = h.build();
        assert!(check(&heap.facts(&heap.locator(), entry, cache)).is_none());
    }

    #[test]
    fn quiet_without_timers() {
        let mut h = Builder::new();
        let map = h.var("sessions", NodeType::Object, "Map", 40);
        let s = h.node(NodeType::Object, "Session", 80);
        h.edge(map, EdgeType::Internal, "table", s);
        let heap = h.build();
        assert!(check(&heap.facts(&heap.locator(), s, map)).is_none());
    }
}
