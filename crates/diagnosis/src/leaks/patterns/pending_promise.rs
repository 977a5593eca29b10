//! `pending-promise`: async functions suspended forever at an `await`.
//!
//! An `await` on a promise that never settles (settings that never load, a lock never
//! released, an event that never comes) leaves the call suspended: V8 keeps it as a
//! generator object, with its arguments and variables, reachable from the awaited promise's
//! reactions for as long as that promise lives. Called per request, such calls pile up under
//! one long-lived pending promise. The snapshot shows the promise, its reactions and each
//! suspended call's function; not the `await` it stopped at (V8 keeps that position as a
//! number), so the line is read from the function's source: the `await` of the promise by
//! its name, else the function's first `await`.

use leakhunt_findings::{Explanation, SourceLocation, SuspendedFunction};

use super::suspect_facts::{NodeKind, SuspectFacts};
use super::{Finding, Pattern};
use crate::leaks::source;

pub fn check(f: &SuspectFacts) -> Option<Finding> {
    // The awaited promise: a holder whose reactions hold the object, with nothing but
    // reactions (V8's internal records) between. (Not the anchor: a pending promise's
    // reactions hold promises too, so the chain is anchored above the awaited one.)
    let index = f.holders().find_map(|(i, p)| {
        let below = f.nodes[i - 1].held_as?;
        (p.class == "Promise"
            && below.name == Some("reactions_or_result")
            && f.nodes[1..i].iter().all(|n| n.kind == NodeKind::Storage))
        .then_some(i)
    })?;
    let awaited = f
        .owner(index)
        .map(|o| o.path.rsplit('.').next().unwrap_or(&o.path).to_string());
    let functions: Vec<(SourceLocation, u64)> = f
        .suspended_functions(index)
        .into_iter()
        .map(|(at, n)| (await_in(&at, awaited.as_deref()).unwrap_or(at), n))
        .collect();
    let location = functions.first().map(|(at, _)| at.clone());
    Some(Finding {
        pattern: Pattern::PendingPromise,
        location,
        owner: f.owner(index),
        captured: Vec::new(),
        explanation: Explanation::PendingPromise {
            functions: functions
                .into_iter()
                .map(|(at, suspended)| SuspendedFunction {
                    function: at.function.clone(),
                    waits_at: Some(f.display(at)),
                    suspended,
                })
                .collect(),
        },
    })
}

/// The `await` a function starting at `function` waits at: `await <awaited>` when the
/// promise has a name, else the first `await` from the function's start on. Its position
/// keeps the function's name.
fn await_in(function: &SourceLocation, awaited: Option<&str>) -> Option<SourceLocation> {
    let text = source::read_script(&function.file)?;
    let start = function.line.checked_sub(1)? as usize;
    let lines = || text.lines().enumerate().skip(start);
    let find = |needle: &str| {
        lines().find_map(|(i, line)| {
            line.match_indices(needle).find_map(|(at, _)| {
                let next = line[at + needle.len()..].chars().next();
                let whole = next.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '$'));
                whole.then_some((i, at))
            })
        })
    };
    let (i, at) = awaited
        .and_then(|name| find(&format!("await {name}")))
        .or_else(|| find("await"))?;
    Some(SourceLocation {
        line: i as u32 + 1,
        column: at as u32 + 1,
        ..function.clone()
    })
}

#[cfg(test)]
mod tests {
    use leakhunt_engine::{EdgeType, NodeType};

    use super::*;
    use crate::leaks::patterns::testing::Builder;

    /// `const settings = new Promise(…)` that never settles, awaited by calls of an async
    /// function: reactions → resume closures → scope → the suspended call.
    fn awaited(calls: usize) -> Option<Finding> {
        let mut h = Builder::new();
        let settings = h.var("settings", NodeType::Object, "Promise", 32);
        let function = h.node(NodeType::Closure, "recordAudit", 32);
        h.edge(h.scope, EdgeType::Context, "recordAudit", function);
        let mut next = None;
        let mut first_promise = None;
        for _ in 0..calls {
            let reaction = h.node(NodeType::Hidden, "system / PromiseReaction", 40);
            let resume = h.node(NodeType::Closure, "", 32);
            let scope = h.node(NodeType::Object, "system / Context", 32);
            let call = h.node(NodeType::Object, "Generator", 64);
            let registers = h.node(NodeType::Array, "", 64);
            let throwaway = h.node(NodeType::Object, "Promise", 32);
            if let Some(n) = next {
                h.edge(reaction, EdgeType::Hidden, "0", n);
            }
            h.edge(reaction, EdgeType::Hidden, "1", resume);
            h.edge(reaction, EdgeType::Hidden, "3", throwaway);
            h.edge(resume, EdgeType::Internal, "context", scope);
            h.edge(scope, EdgeType::Internal, "extension", call);
            h.edge(call, EdgeType::Internal, "function", function);
            h.edge(
                call,
                EdgeType::Internal,
                "parameters_and_registers",
                registers,
            );
            next = Some(reaction);
            first_promise.get_or_insert(throwaway);
        }
        h.edge(
            settings,
            EdgeType::Internal,
            "reactions_or_result",
            next.unwrap(),
        );
        let heap = h.build();
        let locator = heap.locator();
        check(&heap.facts(&locator, first_promise.unwrap(), settings))
    }

    #[test]
    fn fires_for_calls_suspended_on_a_promise_that_never_settles() {
        let f = awaited(3).expect("a pending promise");
        assert_eq!(f.pattern, Pattern::PendingPromise);
        assert_eq!(f.owner.unwrap().path, "settings");
        // No script positions in a built heap: no function to name.
        assert_eq!(
            f.explanation,
            Explanation::PendingPromise { functions: vec![] }
        );
    }

    #[test]
    fn quiet_for_objects_a_collection_keeps() {
        let mut h = Builder::new();
        let list = h.var("queue", NodeType::Object, "Array", 32);
        let p = h.node(NodeType::Object, "Promise", 32);
        h.edge(list, EdgeType::Element, "0", p);
        let heap = h.build();
        assert!(check(&heap.facts(&heap.locator(), p, list)).is_none());
    }

    #[test]
    fn the_await_of_the_promise_by_name_is_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("audit.js");
        std::fs::write(
            &file,
            "async function other() { await x; }\n\
             async function recordAudit(user) {\n  await log(user);\n  const s = await settings;\n}\n",
        )
        .unwrap();
        let function = SourceLocation {
            file: file.to_str().unwrap().to_string(),
            line: 2,
            column: 1,
            function: Some("recordAudit".into()),
        };
        let at = await_in(&function, Some("settings")).unwrap();
        assert_eq!((at.line, at.column), (4, 13));
        assert_eq!(at.function.as_deref(), Some("recordAudit"));
        let first = await_in(&function, None).unwrap();
        assert_eq!((first.line, first.column), (3, 3));
    }
}
