//! The words for growth a library keeps on the program's behalf: handler lists
//! (interceptors, middleware) and a library's own collections (registries, rooms, caches).
//! The fix is in how the program calls the library (register once, take back what it added,
//! give each request its own instance), never "bound the collection": the program does not
//! own it. Same conventions as `prose`.

use leakhunt_findings::{Explanation, Suspect};

use crate::bytes::format_bytes;
use crate::prose::{count_per_step, owner_short};

/// `` `InterceptorManager.eject`, `InterceptorManager.clear` ``.
fn methods(removal: &[String]) -> String {
    let names: Vec<String> = removal.iter().map(|m| format!("`{m}`")).collect();
    names.join(", ")
}

fn list_name(s: &Suspect) -> String {
    s.owner
        .as_ref()
        .map(owner_short)
        .unwrap_or_else(|| "its list".into())
}

/// Why it leaks, for the explanations this file words; `None` for the others.
pub fn explanation(s: &Suspect) -> Option<String> {
    let n = count_per_step(s.count_per_step);
    let bytes = format_bytes(s.bytes_per_step.round().max(0.0) as u64);
    match &s.explanation {
        Explanation::HandlerList {
            holder_class,
            record_class,
            ..
        } => {
            let records = record_class
                .as_deref()
                .map(|r| format!(" (in {r} records)"))
                .unwrap_or_default();
            Some(format!(
                "Every step adds {n} handlers{records} to the {holder_class}'s list {} and none is \
                 removed: the library keeps each handler and everything it captures ({bytes} per \
                 step), and runs them all on every later call. A handler registered in code that \
                 runs per request is registered again on every request.",
                list_name(s)
            ))
        }
        Explanation::LibraryCollection {
            collection_class,
            value_class,
            holder_class,
            shared_by,
            ..
        } => {
            let (keeper, callee) = match holder_class {
                Some(h) => (format!("the library's {h}"), "the library"),
                None => ("Node's own code".into(), "Node's API"),
            };
            let values = value_class
                .as_deref()
                .map(|v| format!(" (its {v} values)"))
                .unwrap_or_default();
            let shared = shared_by
                .as_deref()
                .map(|v| format!(", inside `{v}`, which every request shares,"))
                .unwrap_or_default();
            Some(format!(
                "The {collection_class} {} is kept by {keeper}{shared} and gains {n} entries per \
                 step{values}, adding {bytes} per step: each call your code makes into {callee} adds \
                 one, and {callee} keeps it until it is told to let go.",
                list_name(s)
            ))
        }
        _ => None,
    }
}

/// What to change, for the explanations this file words; `None` for the others.
pub fn fix(s: &Suspect) -> Option<String> {
    match &s.explanation {
        Explanation::HandlerList {
            returned_removal: Some(call),
            ..
        } => Some(format!(
            "`{call}(…)` returns a function that removes the handler again, and the code that \
             registers it drops that: keep what it returns and call it when the request ends \
             (`const undo = {call}(…)`, later `undo()`), or register the handler once, at startup \
             (module scope), not in code that runs per request."
        )),
        Explanation::HandlerList { removal, .. } => {
            let remove = if removal.is_empty() {
                " No method to remove one was found on the library's objects, so registering once is the fix.".into()
            } else {
                format!(
                    " If it must depend on the request, remove it when the request ends ({}), or \
                     pass what varies with the request's own options instead.",
                    methods(removal)
                )
            };
            Some(format!(
                "Register the handler once, at startup (module scope), not in code that runs per \
                 request.{remove}"
            ))
        }
        Explanation::LibraryCollection {
            value_class,
            removal,
            shared_by,
            values_have_class,
            returned_removal,
            keys_grow,
            ..
        } => {
            if *keys_grow {
                // One long-lived object keyed by what the program passes: bounding those
                // values (or taking each key out) is the fix; a new object per request is not.
                let remove = if removal.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", or take each key's entry back out when its user or id is done: {}",
                        methods(removal)
                    )
                };
                return Some(format!(
                    "Its keys are data, one per distinct value your code passes (a user id, a \
                     URL), so they grow without bound: pass values from a small fixed set \
                     instead (a route, a status, a tier rather than a user id){remove}."
                ));
            }
            let mut parts = Vec::new();
            // The library's own undo, which the program already gets back and drops.
            if let Some(call) = returned_removal {
                parts.push(format!(
                    "`{call}(…)` returns a function that takes the entry back out: keep it and \
                     call it when the request or user the entry belongs to is done."
                ));
            }
            // Objects the program creates per call (a metric, a storage) are made once and
            // reused; then taking entries out; then an instance per request.
            if *values_have_class && shared_by.is_none() {
                let v = value_class.as_deref().unwrap_or("object");
                parts.push(format!(
                    "Create the {v} once, at startup, and reuse it, passing what varies per \
                     request as data."
                ));
            }
            if !removal.is_empty() {
                let or = if parts.is_empty() { "T" } else { "Or t" };
                parts.push(format!(
                    "{or}ake each entry back out when the request or user it belongs to is done: {}.",
                    methods(removal)
                ));
            }
            if let Some(v) = shared_by {
                let or = if parts.is_empty() { "" } else { "Or, i" };
                let i = if parts.is_empty() { "I" } else { "" };
                parts.push(format!(
                    "{or}{i}f `{v}` holds state for one request only, create it per request \
                     (inside the handler) instead of once for the process, so what it keeps goes \
                     with the request."
                ));
            }
            if parts.is_empty() {
                parts.push(
                    "Find the call your code makes per request that adds to it, and make it once \
                     at startup or undo it when the request ends."
                        .into(),
                );
            }
            Some(parts.join(" "))
        }
        _ => None,
    }
}
