//! `closure-capture`: a small function kept alive whose scope holds much more than it needs.
//!
//! V8 gives every function scope one context object with a slot for each variable that *any*
//! inner function uses. A kept callback therefore keeps the whole context: the big report
//! another inner function touched, the request a sibling used. The tell in a snapshot: the
//! function is tiny and the bytes it retains sit behind its context's variables.

use leakhunt_engine::graph::{EdgeType, NodeType};

use super::{Context, Finding, Pattern};
use leakhunt_findings::{Captured, Explanation};

/// The captured variables own at least this share of what the closure retains.
const CAPTURED_SHARE: f64 = 0.5;

pub fn check(ctx: &Context) -> Option<Finding> {
    let g = &ctx.a.graph;
    let closure = ctx.object;
    if g.node_type(closure) != NodeType::Closure {
        return None;
    }
    let context = g
        .edges_of(closure)
        .find(|&e| g.edge_type(e) == EdgeType::Internal && g.edge_name(e) == Some("context"))
        .map(|e| g.edge_target(e))?;
    let dom = &ctx.a.dominators;
    if dom.idom[context as usize] != closure {
        return None; // the scope is shared with others: not this closure's bytes
    }
    let mut captured: Vec<Captured> = g
        .edges_of(context)
        .filter(|&e| g.edge_type(e) == EdgeType::Context)
        .filter(|&e| dom.idom[g.edge_target(e) as usize] == context)
        .map(|e| Captured {
            name: g.edge_name(e).unwrap_or("").to_string(),
            bytes: dom.retained[g.edge_target(e) as usize],
        })
        .collect();
    captured.sort_by_key(|c| std::cmp::Reverse(c.bytes));
    let total: u64 = captured.iter().map(|c| c.bytes).sum();
    let retained = dom.retained[closure as usize];
    if captured.is_empty() || (total as f64) < CAPTURED_SHARE * retained as f64 {
        return None;
    }
    captured.truncate(3);
    let function = Some(g.node_name(closure).to_string()).filter(|f| !f.is_empty());
    Some(Finding {
        pattern: Pattern::ClosureCapture,
        location: ctx.user_location(closure),
        owner: ctx.owner(0),
        captured,
        explanation: Explanation::ClosureCapture { function },
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
        check(&heap.context(&locator, cb, list))
    }

    #[test]
    fn fires_when_the_scope_holds_the_bytes() {
        let f = kept_callback(50_000).expect("a closure capture");
        assert_eq!(f.captured[0].name, "report");
        assert_eq!(f.captured[0].bytes, 50_000);
    }

    #[test]
    fn quiet_when_the_scope_is_small() {
        assert!(kept_callback(8).is_none());
    }
}
