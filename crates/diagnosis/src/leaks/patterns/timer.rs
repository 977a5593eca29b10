//! `timer`: retained by a timer that is never cleared.
//!
//! Node keeps every pending timer in a per-duration list (`TimersList`, a linked list of
//! `Timeout` objects through `_idleNext`/`_idlePrev`), filed in `timerListMap` under its
//! duration and in the `timerListQueue` priority queue by expiry; `setImmediate` callbacks
//! sit in an `ImmediateList`. A `setInterval` stays there until `clearInterval`, a
//! `setTimeout` until it fires or `clearTimeout`; its callback (`_onTimeout`) and everything
//! it captures stay with it. Timers whose durations differ (a retry's backoff with jitter)
//! each get a list of their own, so what grows is the lists. What a timer's callback fills
//! is not the timer's growth: the objects must be timers, or sit in a timer's own storage.

use leakhunt_engine::graph::EdgeType;
use leakhunt_findings::{Explanation, SourceLocation};

use super::suspect_facts::SuspectFacts;
use super::{Finding, Pattern};
use crate::leaks::source;

const TIMER_CLASSES: [&str; 4] = ["Timeout", "Immediate", "TimersList", "ImmediateList"];

/// The variable of Node's timers module holding a TimersList per duration.
const NODE_TIMER_MAP: &str = "timerListMap";

pub fn check(f: &SuspectFacts) -> Option<Finding> {
    let is_timer = |class: &str| TIMER_CLASSES.contains(&class);
    // Node's timer map (`timerListMap` in lib/internal/timers.js) has one TimersList per
    // duration: the map gaining entries is timers with durations of their own piling up.
    let timer_map_grows = f
        .object()
        .held_as
        .is_some_and(|e| e.kind == EdgeType::Context && e.name == Some(NODE_TIMER_MAP));
    let via_timer = timer_map_grows
        || is_timer(f.object().class)
        || f.holders()
            .any(|(i, h)| is_timer(h.class) && f.held_directly_by(i));
    if !via_timer {
        return None;
    }
    // The timer lists are keyed by duration: `timerListMap[60000]`. When the lists
    // themselves accumulate, each has a duration of its own.
    let lists_grow = f.object().class == "TimersList" || timer_map_grows;
    let duration_ms = if lists_grow {
        None
    } else {
        f.holders().find_map(|(_, list)| {
            let held_as = list.held_as?;
            (list.class == "TimersList" && held_as.kind == EdgeType::Element)
                .then_some(held_as.index)
        })
    };
    let callback = f.callback().or(f.closure_above()).cloned();
    Some(Finding {
        pattern: Pattern::Timer,
        location: callback.map(|c| scheduling_call(c).unwrap_or_else(|c| c)),
        owner: None,
        captured: Vec::new(),
        explanation: Explanation::Timer {
            duration_ms,
            repeats: f.timer_repeats(),
            one_list_per_duration: lists_grow,
        },
    })
}

/// The `setTimeout(name`/`setInterval(name` call that schedules a named callback, in the
/// callback's own script; an inline callback already sits on that line. Gives the callback
/// back when no such call is there.
fn scheduling_call(callback: SourceLocation) -> Result<SourceLocation, SourceLocation> {
    let Some(name) = callback.function.as_deref().filter(|n| !n.is_empty()) else {
        return Err(callback);
    };
    let Some(text) = source::read_script(&callback.file) else {
        return Err(callback);
    };
    let Some((line, column)) = ["setTimeout", "setInterval"]
        .iter()
        .find_map(|call| call_with(&text, &format!("{call}({name}")))
    else {
        return Err(callback);
    };
    // (the call sits in whatever function schedules it, not in the callback)
    Ok(SourceLocation {
        line,
        column,
        function: None,
        ..callback
    })
}

/// Line and column (1-based) of the first `needle` in `text` that does not run on into a
/// longer name (`setTimeout(retry` but not `setTimeout(retryAll`).
fn call_with(text: &str, needle: &str) -> Option<(u32, u32)> {
    text.lines().enumerate().find_map(|(i, line)| {
        line.match_indices(needle).find_map(|(at, _)| {
            let next = line[at + needle.len()..].chars().next();
            let whole = next.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '$'));
            whole.then_some((i as u32 + 1, at as u32 + 1))
        })
    })
}

#[cfg(test)]
mod tests {
    use leakhunt_engine::{EdgeType, NodeIndex, NodeType};

    use super::*;
    use crate::leaks::patterns::testing::{Builder, Heap};

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
                duration_ms: Some(60000),
                // No `_repeat` edge: a number, which the snapshot leaves out.
                repeats: Some(true),
                one_list_per_duration: false,
            }
        );
    }

    /// Timer lists of distinct durations, each with one timeout (`_repeat` is `null`).
    fn lists_of_timeouts() -> (Heap, NodeIndex, NodeIndex) {
        let mut h = Builder::new();
        let lists = h.var("timerListMap", NodeType::Object, "Object", 40);
        let null = h.node(NodeType::Hidden, "system / Oddball", 16);
        let null_name = h.node(NodeType::String, "null", 16);
        let null_type = h.node(NodeType::String, "object", 16);
        h.edge(null, EdgeType::Hidden, "0", null_name);
        h.edge(null, EdgeType::Hidden, "1", null_type);
        let mut first = None;
        for ms in [60017, 60342, 120980] {
            let list = h.node(NodeType::Object, "TimersList", 40);
            let t = h.node(NodeType::Object, "Timeout", 80);
            h.edge(lists, EdgeType::Element, &ms.to_string(), list);
            h.edge(list, EdgeType::Property, "_idleNext", t);
            h.edge(t, EdgeType::Property, "_idlePrev", list);
            h.edge(t, EdgeType::Property, "_repeat", null);
            first.get_or_insert(list);
        }
        (h.build(), first.unwrap(), lists)
    }

    #[test]
    fn timer_lists_of_one_shot_timeouts_are_timeouts_one_list_per_duration() {
        let (heap, list, lists) = lists_of_timeouts();
        let f = check(&heap.facts(&heap.locator(), list, lists)).expect("a timer");
        assert_eq!(
            f.explanation,
            Explanation::Timer {
                duration_ms: None,
                repeats: Some(false),
                one_list_per_duration: true,
            }
        );
    }

    #[test]
    fn a_named_callback_is_located_at_the_call_that_schedules_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jobs.js");
        std::fs::write(
            &file,
            "function retryAll() {}\nfunction retry(job) {}\n\
             setTimeout(retryAll, 10);\n  setTimeout(retry, 1000, job);\n",
        )
        .unwrap();
        let callback = SourceLocation {
            file: file.to_str().unwrap().to_string(),
            line: 2,
            column: 1,
            function: Some("retry".into()),
        };
        let at = scheduling_call(callback).expect("the setTimeout call");
        assert_eq!((at.line, at.column), (4, 3));
        let anonymous = SourceLocation {
            function: None,
            ..at.clone()
        };
        assert!(scheduling_call(anonymous).is_err());
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
