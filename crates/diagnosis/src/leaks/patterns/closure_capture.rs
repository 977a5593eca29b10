//! `closure-capture`: a small function kept alive whose scope holds much more than it needs.
//!
//! V8 gives every function scope one context object with a slot for each variable that *any*
//! inner function uses. A kept callback therefore keeps the whole context: the big report
//! another inner function touched, the request a sibling used. The tell in a snapshot: the
//! function is tiny and the bytes it retains sit behind its own scope's variables.

use leakhunt_findings::Explanation;

use super::suspect_facts::SuspectFacts;
use super::{Finding, Pattern};

/// The captured variables own at least this share of what the closure retains.
const CAPTURED_SHARE: f64 = 0.5;

pub fn check(f: &SuspectFacts) -> Option<Finding> {
    let scope = f.scope_capture()?;
    let mut captured = scope.captured;
    let total: u64 = captured.iter().map(|c| c.bytes).sum();
    if captured.is_empty() || (total as f64) < CAPTURED_SHARE * scope.closure_retains as f64 {
        return None;
    }
    captured.truncate(3);
    Some(Finding {
        pattern: Pattern::ClosureCapture,
        location: f.object().location.clone(),
        // What keeps the closures: the collection they are in.
        owner: f.owner(1),
        captured,
        explanation: Explanation::ClosureCapture {
            function: f.function_name(),
        },
    })
}

#[cfg(test)]
mod tests {
    use leakhunt_engine::{EdgeType, NodeType};

    use super::*;
    use crate::leaks::patterns::testing::Builder;

    fn kept_callback(captured_size: u64) -> Option<Finding> {
        let mut h = Builder::new();
        let list = h.var("pending", NodeType::Object, "Array", 32);
        let cb = h.node(NodeType::Closure, "", 32);
        let scope = h.node(NodeType::Object, "system / Context", 40);
        let report = h.node(NodeType::Object, "Report", captured_size);
        h.edge(list, EdgeType::Element, "0", cb);
        h.edge(cb, EdgeType::Internal, "context", scope);
        h.edge(scope, EdgeType::Context, "report", report);
        let heap = h.build();
        let locator = heap.locator();
        check(&heap.facts(&locator, cb, list))
    }

    #[test]
    fn fires_when_the_scope_holds_the_bytes() {
        let f = kept_callback(50_000).expect("a closure capture");
        assert_eq!(f.captured[0].name, "report");
        assert_eq!(f.captured[0].bytes, 50_000);
    }

    #[test]
    fn the_scopes_around_the_closures_own_count_when_only_it_keeps_them() {
        // A callback made in a `catch` block: its scope is the block's, inside the function's.
        let mut h = Builder::new();
        let list = h.var("pendingRetries", NodeType::Object, "Array", 32);
        let cb = h.node(NodeType::Closure, "", 32);
        let block = h.node(NodeType::Object, "system / Context", 40);
        let function = h.node(NodeType::Object, "system / Context", 40);
        let payload = h.node(NodeType::Object, "Buffer", 50_000);
        h.edge(list, EdgeType::Element, "0", cb);
        h.edge(cb, EdgeType::Internal, "context", block);
        h.edge(block, EdgeType::Internal, "previous", function);
        h.edge(function, EdgeType::Context, "payload", payload);
        let heap = h.build();
        let f = check(&heap.facts(&heap.locator(), cb, list)).expect("a closure capture");
        assert_eq!(f.captured[0].name, "payload");
    }

    #[test]
    fn quiet_when_the_scope_is_small() {
        assert!(kept_callback(8).is_none());
    }
}
